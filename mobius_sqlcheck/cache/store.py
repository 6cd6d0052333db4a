"""A directory of content-addressed entries, safe to load whatever is in it.

An entry is one file, `history/<kind>/<key[:2]>/<key>` under the cache
directory: a header line

    MSCC1 <kind> <key> <blake2b of the payload> <tool version>

then the payload, plain JSON, zlib-compressed for kinds ending in "z"
(catalog snapshots). Snapshots are written through orjson (they are large,
and written by runs that replayed a long history); every entry is read
through the standard json module, whose import the one-file hook has paid
already: orjson's import (~20 ms, with dataclasses, uuid, inspect) costs the
hook more than it saves on the snapshot it reads, whose bulk is strings
decoded only when used (catalog_data). Nothing is unpickled or evaluated, so a cache committed to a
repository or restored from a CI artifact cannot run code. An entry whose
header names another key, kind or version, whose payload does not match its
checksum, or that does not decode is ignored (the caller recomputes it and
the write replaces it).

Writes go to a temporary file in the entry's directory and are renamed into
place, so concurrent runs (pre-commit in two terminals, a CI matrix) never
read half an entry; two runs writing one key write the same bytes. Entries
unused for `MAX_AGE_DAYS` are deleted, and so are the least recently used
ones while the directory holds more than `MAX_BYTES`: a sweep runs at most
once every `SWEEP_EVERY_SECONDS`, and after any run that wrote more than a
sixteenth of the bound, so the bound holds within what runs write between
two sweeps. Using an entry refreshes its modification time (at most once a
day per entry).
"""

from __future__ import annotations

import itertools
import json
import os
import time
import zlib
from typing import Any

try:  # hashlib would load OpenSSL (~10 ms of a hook's start-up) for a hash it does not take from there
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - another Python build
    from hashlib import blake2b

MAGIC = b"MSCC1"
MAX_AGE_DAYS = 30
MAX_BYTES = 512 * 1024 * 1024
SWEEP_EVERY_SECONDS = 3600
_TOUCH_AFTER_SECONDS = 86400
_SUBDIR = "history"
_SWEEP_MARK = "last-sweep"
_SERIAL = itertools.count()
_GITIGNORE = "# Created by mobius-sqlcheck; safe to delete.\n*\n"


def checksum(payload: bytes) -> str:
    return blake2b(payload, digest_size=16).hexdigest()


class Store:
    """Entries under `root`, written by tool version `version`. Every failure
    to read is a miss and every failure to write is ignored, except that the
    first write failure is kept in `problem` for a one-line notice."""

    def __init__(self, root: str, version: str) -> None:
        self.root = root
        self.version = version
        self.problem: str | None = None
        self.written = 0  # bytes written by this process
        self._prepared = False

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.root, _SUBDIR, kind, key[:2], key)

    # -- reading ------------------------------------------------------------

    def get(self, kind: str, key: str) -> Any:
        """The entry's payload, decoded; None when missing or not to be trusted."""
        path = self._path(kind, key)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
                modified = os.fstat(handle.fileno()).st_mtime
        except OSError:
            return None
        payload = self._verified(data, kind, key)
        if payload is None:
            return None
        try:
            value = json.loads(zlib.decompress(payload) if kind.endswith("z") else payload)
        except (ValueError, zlib.error, RecursionError):
            return None
        if time.time() - modified > _TOUCH_AFTER_SECONDS:
            try:
                os.utime(path)
            except OSError:
                pass
        return value

    def _verified(self, data: bytes, kind: str, key: str) -> bytes | None:
        newline = data.find(b"\n")
        if newline == -1:
            return None
        header = data[:newline].split(b" ")
        payload = data[newline + 1:]
        expected = [MAGIC, kind.encode(), key.encode(), checksum(payload).encode(), self.version.encode()]
        return payload if header == expected else None

    # -- writing ------------------------------------------------------------

    def put(self, kind: str, key: str, value: Any) -> None:
        """Store `value`; a callable is called for it, so that a large value
        (a snapshot) is freed once serialized, before it is compressed."""
        try:
            if kind.endswith("z"):
                import orjson

                serialized = orjson.dumps(value() if callable(value) else value)
                value = None
                payload = zlib.compress(serialized, 6)  # level 6: a third smaller than 1, written rarely
                del serialized
            else:
                payload = json.dumps(value() if callable(value) else value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError):  # a value plain JSON cannot hold: not cached
            return
        header = b" ".join([MAGIC, kind.encode(), key.encode(), checksum(payload).encode(), self.version.encode()])
        path = self._path(kind, key)
        try:
            self._prepare()
            directory = os.path.dirname(path)
            os.makedirs(directory, exist_ok=True)
            # Unique per process and write; O_EXCL never shares a half-written file.
            temporary = os.path.join(directory, f".{key}.{os.getpid()}.{next(_SERIAL)}.tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(header + b"\n" + payload)
                os.replace(temporary, path)
            except BaseException:
                _remove(temporary)
                raise
        except OSError as error:
            if self.problem is None:
                self.problem = f"cannot write the cache in {self.root}: {error.strerror or error}"
            return
        self.written += len(payload)

    def _prepare(self) -> None:
        if self._prepared:
            return
        os.makedirs(self.root, exist_ok=True)
        ignore = os.path.join(self.root, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w", encoding="utf-8") as handle:
                handle.write(_GITIGNORE)
        self._prepared = True

    # -- eviction -----------------------------------------------------------

    def maybe_sweep(self) -> None:
        if not self.written:
            return
        mark = os.path.join(self.root, _SUBDIR, _SWEEP_MARK)
        try:
            last = os.stat(mark).st_mtime
        except OSError:
            last = 0.0
        if self.written * 16 < MAX_BYTES and time.time() - last < SWEEP_EVERY_SECONDS:
            return
        try:
            with open(mark, "w", encoding="utf-8"):
                pass
        except OSError:
            return
        sweep(os.path.join(self.root, _SUBDIR))


def sweep(root: str, now: float | None = None, max_bytes: int = MAX_BYTES) -> None:
    """Delete entries unused for MAX_AGE_DAYS, stale temporary files, then the
    least recently used entries until the rest fits in `max_bytes`."""
    now = time.time() if now is None else now
    entries: list[tuple[float, int, str]] = []
    for directory, _, names in os.walk(root):
        for name in names:
            if directory == root:
                continue  # .gitignore, the sweep mark
            path = os.path.join(directory, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            stale_temporary = name.endswith(".tmp") and now - info.st_mtime > 3600
            if stale_temporary or now - info.st_mtime > MAX_AGE_DAYS * 86400:
                _remove(path)
            elif not name.endswith(".tmp"):
                entries.append((info.st_mtime, info.st_size, path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= max_bytes:
            break
        _remove(path)
        total -= size


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass

"""The history cache: what linting a migrations directory found, by content,
so a run costs the files that changed.

For the i-th forward migration in apply order (with its rollback file, if
any), the key is chained:

    key_i = blake2b(base, key_{i-1}, file name and bytes, rollback name and bytes)
    base  = blake2b(cache format, tool and pglast versions, the rules in the
                    registry, every config value that can change a finding,
                    the directory layout)

so key_i names the whole history up to i. The store holds each pair's
findings before suppression (with its suppression comments), in packs of
the pairs one run computed, and, every SNAPSHOT_EVERY pairs and at the end
of a run, the catalog after a pair. A run
reads the entries of the pairs it must report, finds the first that is
missing, loads the latest snapshot at or before it, replays only the rest,
and recomputes only the pairs whose entries are missing. Editing migration 3
of 300 recomputes 3..300; appending 301 replays and checks 301 alone.

The engine owns the pipeline; this module only names, loads and stores.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Mapping
from typing import Any

from mobius_sqlcheck import __version__
from mobius_sqlcheck.cache.store import Store, blake2b
from mobius_sqlcheck.catalog import Catalog
from mobius_sqlcheck.catalog_data import from_data, to_data
from mobius_sqlcheck.migrations import MigrationSet
from mobius_sqlcheck.source import read_file_bytes

CACHE_FORMAT = "1"
SNAPSHOT_EVERY = 500  # pairs between two snapshots
# The end of a run writes a snapshot only this many pairs after the one it
# loaded: replaying a few files costs less than writing a long history's catalog.
END_SNAPSHOT_AFTER = 16
PACK = "p"  # the findings of a run of pairs
SNAPSHOT = "sz"  # "z": the store compresses it
INDEX = "i"  # small and read by every run: plain json, no orjson import
HISTORY = "h"  # the history rules' findings after the last pair
# Config keys that change no finding of a migration file (the output format
# is not config at all).
_IRRELEVANT_CONFIG = frozenset({"migrations", "fail_on", "cache_dir", "source"})
DEFAULT_LAYOUT = "numbered"


def tool_version() -> str:
    """What must match for an entry to be trusted: our version, pglast's, the
    cache format, and in a source checkout (not an installed release) the
    sizes and times of the package's files, so an edited rule never reads
    old results."""
    import pglast

    parts = [__version__, pglast.__version__, CACHE_FORMAT]
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if "site-packages" not in package and "dist-packages" not in package:
        digest = blake2b(digest_size=8)
        for directory, _, names in sorted(os.walk(package)):
            if "__pycache__" in directory:
                continue
            for name in sorted(names):  # modules, and data such as pg_volatility.json
                info = os.stat(os.path.join(directory, name))
                digest.update(f"{directory}/{name}:{info.st_size}:{info.st_mtime_ns};".encode())
        parts.append(digest.hexdigest())
    return "-".join(parts)


def config_fingerprint(config: Any) -> str:
    values = config.values() if callable(getattr(config, "values", None)) else {
        key: getattr(config, key) for key in type(config).DEFAULTS}
    relevant = {key: value for key, value in values.items() if key not in _IRRELEVANT_CONFIG}
    return repr(sorted((key, _canonical(value)) for key, value in relevant.items()))


def _canonical(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(item) for item in value)
    if hasattr(value, "items"):
        return tuple(sorted((key, _canonical(item)) for key, item in value.items()))
    return value


def registry_fingerprint(rules: Mapping[str, Any]) -> str:
    """The rules and where they come from: an extra rule package changes findings."""
    parts = []
    for code, rule in sorted(rules.items()):
        module = getattr(rule.check, "__module__", "") if rule.check else ""
        parts.append(f"{code}:{rule.name}:{rule.scope}:{rule.severity}:{module}")
        if module and not module.startswith("mobius_sqlcheck."):
            path = getattr(getattr(rule.check, "__code__", None), "co_filename", "")
            try:
                info = os.stat(path)
                parts.append(f"{info.st_size}:{info.st_mtime_ns}")
            except OSError:
                parts.append("?")
    return ";".join(parts)


def _hash(*parts: bytes) -> str:
    digest = blake2b(digest_size=20)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


class ContentHashes:
    """The blake2b of each file's bytes, remembered by (size, mtime, inode) in
    one index entry per directory, so a warm run stats the history instead of
    reading it all (as git's index does). A file is remembered only once its
    modification time is RACY_NS behind the clock: a change made within one
    timestamp tick of the hashing would otherwise keep size and time alike."""

    RACY_NS = 2_000_000_000

    def __init__(self, store: Store, directory: str, sources: Any = None) -> None:
        self.store = store
        # Editor buffers (BufferSources.buffered): their text is hashed, not the file's.
        self.buffered: Any = getattr(sources, "buffered", None)
        self.key = _hash(b"content hashes", os.path.abspath(directory or ".").encode())
        value = store.get(INDEX, self.key)
        known = value.get("files") if isinstance(value, dict) and value.get("key") == self.key else None
        self.known: dict[str, list] = known if isinstance(known, dict) else {}
        self.seen: dict[str, list] = {}
        self.now_ns = time.time_ns()

    def of(self, path: str) -> bytes:
        """The digest of the regular file at `path`; OSError if it is not one."""
        buffer = self.buffered(path) if self.buffered is not None else None
        if buffer is not None:
            name = os.path.basename(path)
            if name in self.known:
                self.seen[name] = self.known[name]  # the file on disk is unchanged by an open buffer
            return blake2b(buffer, digest_size=20).hexdigest().encode()
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path}: not a regular file")
        stamp = [info.st_size, info.st_mtime_ns, info.st_ino]
        name = os.path.basename(path)
        known = self.known.get(name)
        if isinstance(known, list) and known[:3] == stamp and isinstance(known[3], str):
            digest = known[3]
        else:
            digest = blake2b(read_file_bytes(path), digest_size=20).hexdigest()
        if info.st_mtime_ns < self.now_ns - self.RACY_NS:
            self.seen[name] = stamp + [digest]
        return digest.encode()

    def save(self) -> None:
        if self.seen != self.known:
            self.store.put(INDEX, self.key, {"key": self.key, "files": self.seen})


class HistoryCache:
    """The keys of one migrations directory's pairs, and their entries."""

    def __init__(self, store: Store, base: str, migration_set: MigrationSet, sources: Any = None) -> None:
        self.store = store
        self.base = base
        self.migration_set = migration_set
        self._path_by_position = [m.path for m in migration_set.forwards]
        self._name_by_path = {path: str(position) for position, path in enumerate(self._path_by_position)}
        hashes = ContentHashes(store, migration_set.directory, sources)
        self.keys = self._chain(base, migration_set, hashes)
        hashes.save()
        self.loaded_at = 0
        self._index_of = {key: index for index, key in enumerate(self.keys) if key is not None}
        self._pending: list[tuple[int, str, dict]] = []  # computed entries not yet in a pack

    @staticmethod
    def _chain(base: str, migration_set: MigrationSet, hashes: ContentHashes) -> list[str | None]:
        """key_i per forward migration; None from the first unreadable file on
        (an unreadable file has no content to name: nothing after it is cached)."""
        keys: list[str | None] = []
        previous: str | None = base
        for forward in migration_set.forwards:
            if previous is None:
                keys.append(None)
                continue
            try:
                parts = [previous.encode(), forward.filename.encode(), hashes.of(forward.path)]
                rollback = migration_set.rollback_for(forward)
                if rollback is not None:
                    parts += [rollback.filename.encode(), hashes.of(rollback.path)]
                previous = _hash(*parts)
            except OSError:
                previous = None
            keys.append(previous)
        return keys

    # -- names of paths --------------------------------------------------------

    def name_of(self, path: str) -> str:
        """A catalog origin's path as a snapshot stores it: the forward file's
        position in apply order (short, and fixed by the snapshot's key, which
        names every file before it), never a directory spelling."""
        name = self._name_by_path.get(path)
        if name is None:
            raise ValueError(f"{path} is not a forward migration of this directory")
        return name

    def path_of(self, name: str) -> str:
        return self._path_by_position[int(name)]

    # -- entries ---------------------------------------------------------------

    def findings(self, needed: list[bool]) -> list[dict | None]:
        """The cached entry of every needed pair (None where there is none).
        Entries live in packs, each named by the key of the last pair it
        holds: from the last pair down, each position not found yet is tried
        as a pack's name, until every needed pair is found or none is left."""
        found: list[dict | None] = [None] * len(self.keys)
        wanted = {index for index, need in enumerate(needed) if need and self.keys[index] is not None}
        lowest = min(wanted, default=len(self.keys))
        position = len(self.keys) - 1
        while wanted and position >= lowest:
            key = self.keys[position]
            if key is not None and found[position] is None:
                for index, entry in self._pack(key):
                    if found[index] is None:
                        found[index] = entry
                        wanted.discard(index)
            position -= 1
        return found

    def _pack(self, key: str) -> list[tuple[int, dict]]:
        value = self.store.get(PACK, key)
        if not isinstance(value, dict) or value.get("key") != key or not isinstance(value.get("entries"), list):
            return []
        found = []
        for item in value["entries"]:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict):
                index = self._index_of.get(item[0])
                if index is not None:
                    found.append((index, item[1]))
        return found

    def _history_key(self) -> str | None:
        """The history rules' entry: the last pair's key, and whether the
        directory is a Supabase project's by what surrounds it (MSC601 asks;
        a `supabase/config.toml` above the directory is in no file's key)."""
        from mobius_sqlcheck.supabase_project import is_supabase_directory

        last = self.keys[-1] if self.keys else self.base
        if last is None:
            return None
        around = is_supabase_directory(self.migration_set.layout, self.migration_set.directory)
        return _hash(b"history", last.encode(), b"supabase" if around else b"")

    def history_findings(self) -> list | None:
        key = self._history_key()
        value = self.store.get(HISTORY, key) if key is not None else None
        if not isinstance(value, dict) or value.get("key") != key or not isinstance(value.get("findings"), list):
            return None
        return value["findings"]

    def put_history_findings(self, findings: list) -> None:
        key = self._history_key()
        if key is not None:
            self.store.put(HISTORY, key, {"key": key, "findings": findings})

    def put_findings(self, index: int, entry: dict) -> None:
        """Keep a computed pair's entry for the next pack (see after_pair)."""
        key = self.keys[index]
        if key is not None:
            self._pending.append((index, key, entry))

    def resume(self, upto: int) -> tuple[int, Catalog]:
        """The latest snapshot after at most `upto` pairs: (pairs it covers, catalog)."""
        for count in range(upto, 0, -1):
            key = self.keys[count - 1]
            if key is None:
                continue
            remembered = _remembered(key, self.migration_set.directory)
            if remembered is not None:
                self.loaded_at = count
                return count, remembered
            value = self.store.get(SNAPSHOT, key)
            if not isinstance(value, dict) or value.get("key") != key:
                continue
            try:
                catalog = from_data(value["catalog"], self.path_of)
            except (ValueError, KeyError, TypeError, IndexError):
                continue
            self.loaded_at = count
            _remember(key, self.migration_set.directory, catalog)
            return count, catalog.fork() if _MEMORY is not None else catalog
        return 0, Catalog()

    def after_pair(self, count: int, catalog: Catalog) -> None:
        """Called with the catalog after `count` pairs: writes the pending
        entries as one pack every SNAPSHOT_EVERY pairs and at the end (one
        file per pair cost milliseconds each to create), and snapshots the
        catalog when due."""
        last = count == len(self.keys)
        if self._pending and (last or count % SNAPSHOT_EVERY == 0):
            pack_key = self._pending[-1][1]
            entries = [[key, entry] for _, key, entry in self._pending]
            self.store.put(PACK, pack_key, {"key": pack_key, "entries": entries})
            self._pending = []
        at_end = last and count - self.loaded_at >= END_SNAPSHOT_AFTER
        if count % SNAPSHOT_EVERY and not at_end:
            return
        key = self.keys[count - 1]
        if key is None:
            return
        try:
            self.store.put(SNAPSHOT, key, lambda: {"key": key, "catalog": to_data(catalog, self.name_of)})
        except ValueError:  # an origin outside this directory's forward files: no snapshot
            return


# Loaded snapshots kept in a long-running process (the editor's server asks
# for it): a keystroke in the newest migration would otherwise decode the
# same snapshot again each time. A snapshot is named by its content, so a
# remembered one is never stale; callers get a copy-on-write fork.
_MEMORY: dict[tuple[str, str], Catalog] | None = None
_MEMORY_SIZE = 2


def remember_snapshots() -> None:
    """Keep the last loaded snapshots in memory from now on (never in the one-shot CLI)."""
    global _MEMORY
    if _MEMORY is None:
        _MEMORY = {}


def _remembered(key: str, directory: str) -> Catalog | None:
    found = _MEMORY.get((key, directory)) if _MEMORY is not None else None
    return found.fork() if found is not None else None


def _remember(key: str, directory: str, catalog: Catalog) -> None:
    if _MEMORY is None:
        return
    while len(_MEMORY) >= _MEMORY_SIZE:
        del _MEMORY[next(iter(_MEMORY))]
    _MEMORY[(key, directory)] = catalog


def open_history_cache(store: Store, config: Any, rules: Mapping[str, Any],
                       migration_set: MigrationSet, layout: str | None = None, sources: Any = None) -> HistoryCache:
    """The cache of one history; its keys include the layout in force (the
    same files read by another layout are another history)."""
    layout = layout or getattr(migration_set, "layout", None) or DEFAULT_LAYOUT
    base = _hash(store.version.encode(), config_fingerprint(config).encode(),
                 registry_fingerprint(rules).encode(), layout.encode())
    return HistoryCache(store, base, migration_set, sources)

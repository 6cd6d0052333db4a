"""Where a run's files come from: a `SourceProvider` (the disk, or editor
buffers with versions over it), and the reading ahead that overlaps parsing
with checking."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Iterator, NamedTuple, Protocol

from mobius_sqlcheck.parse import Decoder, ParsedFile, fast_decoder, parse_source
from mobius_sqlcheck.source import ReadProblem, SectionSource, SourceFile, decode_source, read_source, section_of

if TYPE_CHECKING:
    from concurrent.futures import Future


class SourceProvider(Protocol):
    """Reads files for a run. Must be safe to call from the read-ahead thread."""

    def read(self, path: str) -> SourceFile | ReadProblem: ...

    def version(self, path: str) -> object:
        """What the file's content depends on (for caches): equal versions, equal content."""
        ...


class DiskSources:
    """Files as they are on disk; the version is the modification time and size."""

    def read(self, path: str) -> SourceFile | ReadProblem:
        return read_source(path)

    def version(self, path: str) -> object:
        try:
            status = os.stat(path)
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_size)


class Buffer(NamedTuple):
    """An editor's unsaved text of a file, at the editor's version number."""

    text: str
    version: int


class BufferSources:
    """Open editor buffers over another provider (the disk by default): a
    buffered path reads as its buffer's text, any other as the fallback does."""

    def __init__(self, buffers: Mapping[str, Buffer], fallback: SourceProvider | None = None) -> None:
        self._buffers = {os.path.abspath(path): buffer for path, buffer in buffers.items()}
        self._fallback: SourceProvider = fallback or DiskSources()

    def read(self, path: str) -> SourceFile | ReadProblem:
        buffer = self._buffers.get(os.path.abspath(path))
        if buffer is None:
            return self._fallback.read(path)
        return decode_source(path, buffer.text.encode("utf-8", "surrogatepass"))

    def version(self, path: str) -> object:
        buffer = self._buffers.get(os.path.abspath(path))
        return ("buffer", buffer.version) if buffer is not None else self._fallback.version(path)

    def buffered(self, path: str) -> bytes | None:
        """The bytes of an open buffer (what the history cache hashes instead of the file), or None."""
        buffer = self._buffers.get(os.path.abspath(path))
        return buffer.text.encode("utf-8", "surrogatepass") if buffer is not None else None

    @property
    def on_disk(self) -> bool:
        """True when the files that are not buffers come from the disk (so the history cache applies)."""
        return isinstance(self._fallback, DiskSources)


class SourceLoader(Mapping[str, "SourceFile | ReadProblem"]):
    """The directory's files for set-level rules, read on demand and not kept
    (a long history would not fit in memory twice)."""

    def __init__(self, paths: list[str], provider: SourceProvider) -> None:
        self._paths = paths
        self._provider = provider

    def __getitem__(self, path: str) -> SourceFile | ReadProblem:
        if path not in self._paths:
            raise KeyError(path)
        return self._provider.read(path)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


# What a migration is read as (MigrationFile.key): a whole file, or bytes
# `start:end` of one when its layout keeps two migrations in one file (dbmate).
UnitKey = tuple[str, int, "int | None"]


def read_unit(provider: SourceProvider, key: UnitKey) -> SourceFile | ReadProblem:
    """The file of `key`, or only its section: everything else blanked, so
    every offset, line and column stays the real file's."""
    path, start, end = key
    source = provider.read(path)
    if isinstance(source, SourceFile) and (start != 0 or end is not None):
        return section_of(source, start, end)
    return source


def whole_file(provider: SourceProvider, source: SourceFile) -> SourceFile:
    """The real text behind a section (for positions and messages); a whole file as it is."""
    if isinstance(source, SectionSource):
        real = provider.read(source.path)
        return real if isinstance(real, SourceFile) else source
    return source


def _read_and_parse(provider: SourceProvider, key: UnitKey,
                    decode: Decoder) -> tuple[SourceFile | ReadProblem, ParsedFile | None]:
    source = read_unit(provider, key)
    return source, parse_source(source, decode) if isinstance(source, SourceFile) else None


class Prefetcher:
    """Reads and parses the files ahead of the one being checked, on a worker
    thread: libpg_query releases the GIL while it parses, so parsing the next
    file overlaps checking this one. A few files are not worth a thread, nor
    orjson's import."""

    WINDOW = 8  # files parsed ahead: bounds the parse trees held in memory
    MIN_FILES = 16

    def __init__(self, keys: list[UnitKey], provider: SourceProvider) -> None:
        self._provider = provider
        self._queue = list(reversed(keys))
        self._pending: dict[UnitKey, Future] = {}
        self._pool = None
        self._decode: Decoder = json.loads
        if len(keys) >= self.MIN_FILES:
            # Imported here: concurrent.futures costs the one-file hook run ~8 ms.
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, "mobius-parse")
            self._decode = fast_decoder()

    def get(self, key: UnitKey) -> tuple[SourceFile | ReadProblem, ParsedFile | None]:
        if self._pool is None:
            return _read_and_parse(self._provider, key, self._decode)
        while self._queue and len(self._pending) < self.WINDOW:
            upcoming = self._queue.pop()
            self._pending[upcoming] = self._pool.submit(_read_and_parse, self._provider, upcoming, self._decode)
        future = self._pending.pop(key, None)
        return future.result() if future is not None else _read_and_parse(self._provider, key, self._decode)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

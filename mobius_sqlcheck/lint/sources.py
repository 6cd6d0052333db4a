"""Where a run's files come from: a `SourceProvider` (the disk, or editor
buffers with versions over it), and the `Prefetcher` that reads and parses
them in the order the run checks them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Iterator, NamedTuple, Protocol

from mobius_sqlcheck.parse import Decoder, ParsedFile, fast_decoder, parse_source
from mobius_sqlcheck.source import ReadProblem, SectionSource, SourceFile, decode_source, read_source, section_of

if TYPE_CHECKING:
    from mobius_sqlcheck.lint.workers import FileWork, FileWorkers


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


# Files to check below which a run starts no worker processes: the pool's
# start-up would cost more than it saves (measured: bench/README.md,
# "Process pool break-even").
MIN_POOL_FILES = 400


class Prefetcher:
    """Reads and parses the files of a run in the order it checks them. With
    worker processes (`mobius_sqlcheck.lint.workers`), a file to check comes
    with what a worker did for it: libpg_query's JSON of it (decoded here, not
    parsed again) and the findings of the catalog-free rules.

    (No thread: a read-ahead thread was measured to slow the run down, as the
    JSON decoding it would overlap holds the GIL.)"""

    MIN_FILES = 16  # from here on, orjson's import (~20 ms) pays for itself

    def __init__(self, keys: list[UnitKey], provider: SourceProvider, workers: FileWorkers | None = None) -> None:
        self._provider = provider
        self._decode: Decoder = fast_decoder() if len(keys) >= self.MIN_FILES else json.loads
        self.workers = workers

    def get(self, key: UnitKey, check: bool = False) -> tuple[SourceFile | ReadProblem, ParsedFile | None,
                                                              FileWork | None]:
        """The unit's text, its parse, and (when it is checked) a worker's work on it, if any."""
        work = self.workers.take(key) if check and self.workers is not None else None
        if work is not None and work.data is not None:  # as read_source made it, in the worker
            source: SourceFile | ReadProblem = SourceFile(key[0], work.data.decode("utf-8"), work.data)
        else:
            source = read_unit(self._provider, key)
        if not isinstance(source, SourceFile):
            return source, None, work
        return source, parse_source(source, self._decode, work.parses if work is not None else None), work

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()

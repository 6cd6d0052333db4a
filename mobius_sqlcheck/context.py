"""What a rule's check function is given: read-only views of the run.

There is one context type per rule scope (see `mobius_sqlcheck.rules`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

from mobius_sqlcheck.catalog import Catalog, ObjectRef, Origin
from mobius_sqlcheck.lockfile import FileSums
from mobius_sqlcheck.config import Config
from mobius_sqlcheck.migrations import MigrationFile, MigrationSet
from mobius_sqlcheck.parse import ParsedFile, Statement
from mobius_sqlcheck.source import ReadProblem, SourceFile


_Record = TypeVar("_Record")


class StatementContext:
    """One per file; `catalog` is the state before the statement being checked."""

    def __init__(self, config: Config, source: SourceFile, migration: MigrationFile | None, catalog: Catalog,
                 statements: list[Statement], no_transaction: bool = False, layout: str = "mobius") -> None:
        self.config = config
        self.layout = layout  # the layout in force (mobius_sqlcheck.layouts): rules speak its terms
        self.source = source
        self.migration = migration
        self.catalog = catalog
        self.statements = statements
        self.no_transaction = no_transaction
        self.tables_created_in_file: set[tuple[str, str]] = set()
        # What a rule computes once per file, by rule code: gone with the file.
        self.memo: dict[str, object] = {}

    @property
    def is_rollback(self) -> bool:
        return self.migration is not None and self.migration.is_rollback

    def is_existing_table(self, key: tuple[str, str]) -> bool:
        """True for a table that may hold rows: created by an earlier file, or
        never created in this directory at all (a platform table)."""
        return key not in self.tables_created_in_file


class FileContext(NamedTuple):
    config: Config
    migration: MigrationFile
    source: SourceFile | None  # None when the file could not be read
    parsed: ParsedFile | None
    migration_set: MigrationSet


class MigrationsContext(NamedTuple):
    config: Config
    migration_set: MigrationSet
    sources: Mapping[str, SourceFile | ReadProblem]  # read on demand, by path
    reported: frozenset[str]  # the files the user asked about; findings elsewhere are dropped
    # Lock sums of the files the run read (None: compute each from the disk).
    file_sums: FileSums | None = None


class RollbackContext(NamedTuple):
    """A forward migration, its rollback, and the catalog after each."""

    config: Config
    forward: MigrationFile
    rollback: MigrationFile
    created: list[tuple[ObjectRef, Origin]]
    after_forward: Catalog
    after_rollback: Catalog


class HistoryContext(NamedTuple):
    config: Config
    migration_set: MigrationSet
    catalog: Catalog  # after every forward migration
    # The files the run reports, when it reports only some of the history
    # (the hook); None: all of it.
    reported: frozenset[str] | None = None

    def reportable(self, records: Mapping[Any, _Record]) -> Iterator[_Record]:
        """The records (`catalog.tables`, `.functions`, `.buckets`) a finding
        placed at the record's origin could be reported on: all of them, or
        those whose origin is in a reported file. A snapshot's tables
        (catalog_data.LoadedRecords) answer without loading the others."""
        if self.reported is None:
            yield from records.values()
            return
        origin_path = getattr(records, "origin_path", None)
        for key in list(records):
            if origin_path is not None:
                if origin_path(key) in self.reported:
                    yield records[key]
                continue
            record = records[key]
            origin = getattr(record, "origin", None)
            if origin is not None and origin.path in self.reported:
                yield record


class TextContext(NamedTuple):
    config: Config
    source: SourceFile

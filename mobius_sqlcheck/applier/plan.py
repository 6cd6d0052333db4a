"""Migration files vs. the history: what is applied, pending, modified or
missing, and which migrations an apply or rollback would run."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mobius_sqlcheck.applier.history import HistoryRow
from mobius_sqlcheck.applier.script import file_checksum
from mobius_sqlcheck.errors import OperationFailed, UsageError
from mobius_sqlcheck.migrations import MigrationFile, MigrationSet, version_key
from mobius_sqlcheck.source import read_file_bytes

APPLIED = "applied"
PENDING = "pending"
MODIFIED = "modified"  # applied, but the file changed since
MISSING = "missing"  # applied, but the file is gone


@dataclass(frozen=True)
class Entry:
    version: str
    name: str
    state: str
    migration: MigrationFile | None
    row: HistoryRow | None
    checksum: str | None  # of the file now
    out_of_order: bool = False  # pending, yet sorts before an applied one
    rank: float = 0  # the place in the layout's apply order (a missing file's: between the files around it)

    @property
    def number(self) -> int:
        return _digits(self.version)

    @property
    def version_key(self) -> tuple[int, ...]:
        return version_key(self.version)

    @property
    def sort_key(self) -> tuple[float, int, str]:
        return (self.rank, self.number, self.name)

    @property
    def label(self) -> str:
        return self.migration.filename if self.migration else f"{self.version}_{self.name}.sql"


def read_checksum(path: str) -> str:
    try:
        return file_checksum(read_file_bytes(path))  # never blocks on a named pipe
    except OSError as error:
        raise UsageError(f"{path}: cannot read migration: {error.strerror or error}") from None


def entries(migration_set: MigrationSet, history: dict[tuple[str, str], HistoryRow]) -> list[Entry]:
    """Every forward file and every history row, in apply order."""
    result = []
    # Repeatable migrations (Flyway R__) come after every versioned one and
    # are pending again whenever their checksum changes.
    for rank, migration in enumerate(migration_set.forwards):
        checksum = read_checksum(migration.path)
        row = history.get((migration.version, migration.name))
        if row is None:
            state = PENDING
        elif row.checksum == checksum:
            state = APPLIED
        else:
            state = PENDING if migration.repeatable else MODIFIED
        result.append(Entry(migration.version, migration.name, state, migration, row, checksum, rank=rank))
    known = {(m.version, m.name) for m in migration_set.forwards}
    for key, row in history.items():
        if key not in known:
            before = sum(1 for m in migration_set.forwards if (m.version_key, m.name) < (version_key(row.version), row.name))
            result.append(Entry(row.version, row.name, MISSING, None, row, None, rank=before - 0.5))
    result.sort(key=lambda e: e.sort_key)
    return _mark_out_of_order(result)


def _digits(version: str) -> int:
    digits = "".join(ch for ch in version if ch.isdigit())
    return int(digits) if digits else 0


def _mark_out_of_order(items: list[Entry]) -> list[Entry]:
    newest_applied = max((e.sort_key for e in items if e.state != PENDING), default=None)
    return [
        replace(e, out_of_order=True)
        if e.state == PENDING and newest_applied is not None and e.sort_key < newest_applied
        and not (e.migration and e.migration.repeatable) else e
        for e in items
    ]


def parse_version(text: str, option: str) -> tuple[int, ...]:
    """A version given on the command line, compared as `version_key` compares
    the files' (diesel writes 2024-06-11-120000, Flyway 1.2 or 1_2)."""
    written = text.strip().replace("_", ".")
    digits = written.replace("-", "").replace(".", "")
    if not digits.isdigit() or written.startswith(".") or written.endswith(".") or ".." in written:
        raise UsageError(f"{option} expects a migration version such as 004 (or Flyway's 1.2), got {text!r}")
    return version_key(written)


def to_apply(items: list[Entry], target: tuple[int, ...] | None = None) -> list[Entry]:
    """Pending migrations up to and including version `target`. Refuses when an
    applied migration was modified or its file is missing: the history and the
    files disagree, and a person must decide."""
    problems = [e for e in items if e.state in (MODIFIED, MISSING)]
    if problems:
        raise OperationFailed(disagreement_message(problems))
    return [e for e in items if e.state == PENDING and (target is None or e.version_key <= target)]


def to_roll_back(items: list[Entry], steps: int | None, to_version: tuple[int, ...] | None) -> list[Entry]:
    """Applied migrations to undo, newest first: the last `steps`, or all above `to_version`."""
    applied = [e for e in items if e.state != PENDING]
    applied.sort(key=lambda e: e.sort_key, reverse=True)
    if to_version is not None:
        chosen = [e for e in applied if e.version_key > to_version]
    else:
        chosen = applied[: steps if steps is not None else 1]
    problems = [e for e in chosen if e.state in (MODIFIED, MISSING)]
    if problems:
        raise OperationFailed(disagreement_message(problems))
    return chosen


def disagreement_message(problems: list[Entry]) -> str:
    parts = [
        f"{e.label} was modified after it was applied (checksum differs)" if e.state == MODIFIED
        else f"{e.label} is in the history but its file is missing"
        for e in problems
    ]
    return (
        "; ".join(parts)
        + ". Restore the applied version of the file (a change belongs in a new migration);"
        " `status` lists every disagreement."
    )

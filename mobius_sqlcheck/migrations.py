"""Migration files: naming, forward/rollback pairing and apply order.

`NNN_snake_case.sql` is a forward migration of version NNN (any number of
digits, so Supabase's timestamp versions work too); `NNN_snake_case_rollback.sql`
undoes it. Migrations apply in (numeric version, name) order, so two files of
one version still have a stable order.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

STRICT_NAME = re.compile(r"^(?P<version>[0-9]+)_(?P<name>[a-z0-9]+(?:_[a-z0-9]+)*)\.sql$")
# Loosely migration-like: digits first. Such a file is still ordered by its
# version, but MSC101 asks for a proper name.
LOOSE_NAME = re.compile(r"^(?P<version>[0-9]+)[_-]?(?P<name>.*)\.sql$", re.IGNORECASE)
ROLLBACK_SUFFIX = "_rollback"
NO_TRANSACTION_DIRECTIVE = re.compile(r"^\s*--\s*mobius-sqlcheck:\s*no-transaction\s*$", re.MULTILINE)


class MigrationFile(NamedTuple):
    path: str
    version: str  # the digits as written, e.g. "004"
    name: str  # e.g. "learning_privacy" (without `_rollback`)
    is_rollback: bool
    well_named: bool

    @property
    def number(self) -> int:
        return int(self.version)

    @property
    def sort_key(self) -> tuple[int, str]:
        return (self.number, self.name)

    @property
    def stem(self) -> str:
        """`004_learning_privacy` for both the forward file and its rollback."""
        return f"{self.version}_{self.name}"

    @property
    def filename(self) -> str:
        return os.path.basename(self.path)


def classify_filename(path: str) -> MigrationFile | None:
    """A MigrationFile for a migration-like name, or None for any other file."""
    filename = os.path.basename(path)
    match = STRICT_NAME.match(filename)
    well_named = match is not None
    if match is None:
        match = LOOSE_NAME.match(filename)
        if match is None:
            return None
    name = match["name"]
    is_rollback = name.lower().endswith(ROLLBACK_SUFFIX)
    if is_rollback:
        name = name[: -len(ROLLBACK_SUFFIX)]
    return MigrationFile(path, match["version"], name, is_rollback, well_named)


class MigrationSet:
    """The `.sql` files of one migrations directory."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.forwards: list[MigrationFile] = []  # in apply order
        self.rollbacks: dict[str, MigrationFile] = {}  # by stem
        self.orphan_rollbacks: list[MigrationFile] = []
        self.other_sql: list[str] = []  # not migration-like at all

    def rollback_for(self, forward: MigrationFile) -> MigrationFile | None:
        return self.rollbacks.get(forward.stem)

    def all_files(self) -> list[MigrationFile]:
        files = list(self.forwards)
        files.extend(self.rollbacks.values())
        files.extend(self.orphan_rollbacks)
        return files


def list_sql_files(directory: str) -> list[str]:
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(
        os.path.join(directory, name)
        for name in names
        if name.lower().endswith(".sql") and not os.path.isdir(os.path.join(directory, name))
    )


def load_migration_set(directory: str) -> MigrationSet:
    return build_migration_set(directory, list_sql_files(directory))


def build_migration_set(directory: str, paths: list[str]) -> MigrationSet:
    migration_set = MigrationSet(directory)
    rollbacks: list[MigrationFile] = []
    for path in paths:
        migration = classify_filename(path)
        if migration is None:
            migration_set.other_sql.append(path)
        elif migration.is_rollback:
            rollbacks.append(migration)
        else:
            migration_set.forwards.append(migration)
    migration_set.forwards.sort(key=lambda m: m.sort_key)
    forward_stems = {m.stem for m in migration_set.forwards}
    for rollback in sorted(rollbacks, key=lambda m: m.sort_key):
        if rollback.stem in forward_stems:
            migration_set.rollbacks[rollback.stem] = rollback
        else:
            migration_set.orphan_rollbacks.append(rollback)
    return migration_set


def is_migrations_directory(directory: str, configured: str | None) -> bool:
    """A directory holds migrations if it is the configured one, is named
    `migrations`, or holds a file named like a migration."""
    if configured and _same_path(directory, configured):
        return True
    if os.path.basename(os.path.normpath(os.path.abspath(directory))) == "migrations":
        return True
    return any(classify_filename(path) for path in list_sql_files(directory))


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def has_no_transaction_directive(text: str) -> bool:
    return "no-transaction" in text and NO_TRANSACTION_DIRECTIVE.search(text) is not None

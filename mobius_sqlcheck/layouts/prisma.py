"""Prisma Migrate: `prisma/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql`.

Migrations apply in directory-name order, each in a transaction; there are
no rollbacks. `migration_lock.toml` sits beside the migration directories.
A `.sql` file anywhere else in the directory is never run (MSC110 here).
"""

from __future__ import annotations

import os

from mobius_sqlcheck.layouts import (
    Change, Ignored, Listing, Options, Script, Section, Unit, create_file, is_sql, migration_directories,
    next_number
)

ID = "prisma"
SUMMARY = "Prisma Migrate: <timestamp>_<name>/migration.sql, no rollbacks"
HAS_ROLLBACKS = False
EXPECTED = "<timestamp>_<name>/migration.sql"
PROJECT_DIRS = ("prisma/migrations",)
# MSC504's hint: how this tool runs a statement that cannot run in a transaction.
OUTSIDE_TRANSACTION = (
    "Prisma Migrate runs every migration in a transaction: run it outside Prisma (e.g. by hand, then "
    "`prisma migrate resolve --applied`), or build the index without CONCURRENTLY.")
SEQUENTIAL = False


def evidence(directory: str, names: list[str]) -> int:
    # A migration is a directory: a `.sql` name is a file, not worth a stat.
    score = 10 * sum(1 for name in names
                     if not is_sql(name) and os.path.isfile(os.path.join(directory, name, "migration.sql")))
    return score + (10 if "migration_lock.toml" in names else 0)


def next_version(versions: list[str]) -> str:
    return next_number(versions)


def new_migration(directory: str, version: str, name: str, up: Script, down: Script | None,
                  options: Options) -> list[Change] | None:
    """Prisma runs every migration in a transaction and has no rollbacks."""
    if not up.in_transaction:
        return None
    return [create_file(os.path.join(directory, f"{version}_{name}", "migration.sql"), up.sql)]


def run_outside_transaction(path: str, text: str) -> list[Change] | None:
    return None  # Prisma Migrate has no way to run a migration outside a transaction


def list_units(directory: str, names: list[str], options: Options) -> Listing:
    units = []
    found, ignored = migration_directories(directory, names, options, f"Prisma runs only {EXPECTED}")
    for entry, path, sql_inside in found:
        migration = os.path.join(path, "migration.sql")
        ignored.extend(Ignored(os.path.join(path, name), f"Prisma runs only {EXPECTED}")
                       for name in sql_inside if name != "migration.sql")
        if not os.path.isfile(migration):
            continue
        version, _, name = entry.partition("_")
        units.append(Unit(version, name, f"{entry}/migration.sql", Section(migration), None,
                          options.in_transaction(migration), (entry,)))
    units.sort(key=lambda unit: unit.order)
    return Listing(ID, directory, units, ignored, [], [], [], HAS_ROLLBACKS)

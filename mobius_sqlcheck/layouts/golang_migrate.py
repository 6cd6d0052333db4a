"""golang-migrate: `{version}_{title}.up.sql` and `{version}_{title}.down.sql`.

The version is an unsigned integer (`000001`, or a Unix or UTC timestamp);
migrations apply in numeric order, each file sent as one multi-statement
query (one implicit transaction). golang-migrate ignores a file without
`.up.` or `.down.` in its name (MSC110 here). Some projects keep one migration
for several databases: `<version>_<title>.postgres.up.sql` beside `.mysql.`,
`.sqlite3.` and `.cockroach.` variants. Those other variants are skipped (and
counted); the `postgres` variant wins over a file without a dialect.
There is no no-transaction marker: a file whose one statement cannot run in
a transaction block (`CREATE INDEX CONCURRENTLY`) is a single-statement
query, which PostgreSQL runs outside one, so such a file needs none.
"""

from __future__ import annotations

import os
import re

from mobius_sqlcheck.layouts import (
    Change, Ignored, Listing, Options, Script, Section, Unit, concurrent_index_statements, create_file,
    has_our_no_transaction, is_sql, next_number, read_text, sql_files
)

ID = "golang-migrate"
SUMMARY = "golang-migrate: <version>_<title>.up.sql with <version>_<title>.down.sql"
HAS_ROLLBACKS = True
EXPECTED = "<version>_<title>.up.sql / <version>_<title>.down.sql"
PROJECT_DIRS = ("db/migrations", "migrations")
# MSC504's hint: how this tool runs a statement that cannot run in a transaction.
OUTSIDE_TRANSACTION = (
    "Move it to its own migration file holding that one statement alone (golang-migrate sends a file as "
    "one query, and PostgreSQL runs a lone statement outside a transaction), with IF [NOT] EXISTS so that"
    " a retry can re-run it.")
SEQUENTIAL = True


def expected_rollback(unit: Unit) -> str:
    head, _, tail = unit.display.rpartition(".up.")
    return f"down file {head}.down.{tail}"

# golang-migrate's source/parse.go: ^([0-9]+)_(.*)\.(down|up)\.(.*)$
FILE_NAME = re.compile(r"^([0-9]+)_(.*)\.(down|up)\.(.*)$")
POSTGRES = ("postgres", "postgresql", "pg")
OTHER_DIALECTS = ("mysql", "sqlite3", "sqlite", "cockroach", "cockroachdb", "clickhouse", "mssql",
                  "sqlserver", "spanner", "redshift", "snowflake")


def runs_outside_transaction(text: str) -> bool:
    """golang-migrate has no marker. A file of one statement is one query:
    PostgreSQL runs it outside any transaction block, so a lone CREATE /
    DROP INDEX CONCURRENTLY (or REINDEX ... CONCURRENTLY) works as it is;
    beside another statement it is in the query's implicit transaction."""
    return has_our_no_transaction(text) or concurrent_index_statements(text) == 1


def next_version(versions: list[str]) -> str:
    return next_number(versions)


def new_migration(directory: str, version: str, name: str, up: Script, down: Script | None,
                  options: Options) -> list[Change] | None:
    if not up.in_transaction and concurrent_index_statements(up.sql) != 1:
        return None
    files = [create_file(os.path.join(directory, f"{version}_{name}.up.sql"), up.sql)]
    if down is not None:  # one statement too (a lone DROP INDEX CONCURRENTLY, or a SELECT)
        files.append(create_file(os.path.join(directory, f"{version}_{name}.down.sql"), down.sql))
    return files


def run_outside_transaction(path: str, text: str) -> list[Change] | None:
    return [] if concurrent_index_statements(text) == 1 else None


def evidence(directory: str, names: list[str]) -> int:
    return 10 * sum(1 for name in names if is_sql(name) and FILE_NAME.match(name))


def _dialect(title: str) -> tuple[str, str]:
    """("init", "postgres") for `init.postgres`; ("init", "") without a dialect."""
    base, dot, last = title.rpartition(".")
    if dot and last.lower() in POSTGRES + OTHER_DIALECTS:
        return base, last.lower()
    return title, ""


def list_units(directory: str, names: list[str], options: Options) -> Listing:
    # (version number, title) -> direction -> (is postgres variant, path)
    found: dict[tuple[int, str], dict[str, tuple[bool, str]]] = {}
    versions: dict[tuple[int, str], str] = {}
    ignored, skipped = [], []
    for filename, path in sql_files(directory, names, options):
        match = FILE_NAME.match(filename)
        if match is None:
            ignored.append(Ignored(path, f"golang-migrate ignores it: not named {EXPECTED}"))
            continue
        title, dialect = _dialect(match[2])
        if dialect in OTHER_DIALECTS:
            skipped.append(path)
            continue
        key = (int(match[1]), title)
        versions.setdefault(key, match[1])
        postgres = dialect != ""
        current = found.setdefault(key, {}).get(match[3])
        if current is None or (postgres and not current[0]):
            if current is not None:
                skipped.append(current[1])  # the postgres variant wins
            found[key][match[3]] = (postgres, path)
        else:
            skipped.append(path)
    units, orphans = [], []
    for key in sorted(found):
        directions = found[key]
        down = directions.get("down")
        if "up" not in directions:
            if down is not None:
                orphans.append(Section(down[1]))
            continue
        up_path = directions["up"][1]
        units.append(Unit(versions[key], key[1], os.path.basename(up_path), Section(up_path),
                          Section(down[1]) if down else None,
                          not runs_outside_transaction(read_text(up_path)), key,
                          rollback_in_transaction=not (down and runs_outside_transaction(read_text(down[1])))))
    return Listing(ID, directory, units, ignored, sorted(skipped), orphans, [], HAS_ROLLBACKS)

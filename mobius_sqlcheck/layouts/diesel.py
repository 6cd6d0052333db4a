"""diesel: `migrations/{version}_{name}/up.sql` with `down.sql` beside it.

`diesel migration generate` writes `YYYY-MM-DD-HHMMSS_name` (or
`YYYY-MM-DD-HHMMSS-XXXX_name`); the version is the directory name up to its
first `_`, compared as text. Each migration runs in its own transaction
unless its `metadata.toml` says `run_in_transaction = false`. A `.sql` file
directly in the migrations directory, or a migration directory without
`up.sql`, is never run (MSC110 here).
"""

from __future__ import annotations

import os
import re
import time

from mobius_sqlcheck.layouts import (
    Change, Ignored, Listing, Options, Script, Section, Unit, concurrent_index_statements, create_file, is_sql,
    migration_directories, read_text
)

ID = "diesel"
SUMMARY = "diesel: <version>_<name>/up.sql with down.sql in the same directory"
HAS_ROLLBACKS = True
EXPECTED = "<version>_<name>/up.sql and <version>_<name>/down.sql"
PROJECT_DIRS = ("migrations",)
# MSC504's hint: how this tool runs a statement that cannot run in a transaction.
OUTSIDE_TRANSACTION = (
    "Move it to its own migration whose metadata.toml says `run_in_transaction = false`, with IF [NOT] "
    "EXISTS so that a retry can re-run it.")
SEQUENTIAL = False


def expected_rollback(unit: Unit) -> str:
    return f"down.sql in {unit.display.rsplit('/', 1)[0]}"


def evidence(directory: str, names: list[str]) -> int:
    # A migration is a directory: a `.sql` name is a file, not worth a stat.
    return 10 * sum(1 for name in names if not is_sql(name) and os.path.isfile(os.path.join(directory, name, "up.sql")))


def _run_in_transaction(migration_dir: str) -> bool:
    import tomllib  # a diesel directory only: every layout module is imported to detect one

    try:
        with open(os.path.join(migration_dir, "metadata.toml"), "rb") as handle:
            metadata = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return True  # diesel's default
    return metadata.get("run_in_transaction", True) is not False


def next_version(versions: list[str]) -> str:
    """`YYYY-MM-DD-HHMMSS`, as `diesel migration generate` writes: now (UTC),
    or one second after the newest, whichever is later."""
    digits = [re.sub(r"[^0-9]", "", v)[:14] for v in versions]
    newest = max((int(d) for d in digits if len(d) == 14), default=0)
    stamp = str(max(newest + 1, int(time.strftime("%Y%m%d%H%M%S", time.gmtime()))))
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}-{stamp[8:]}"


def new_migration(directory: str, version: str, name: str, up: Script, down: Script | None,
                  options: Options) -> list[Change] | None:
    if down is not None and down.in_transaction != up.in_transaction:
        return None  # metadata.toml says it for both directions
    migration = os.path.join(directory, f"{version}_{name}")
    files = [create_file(os.path.join(migration, "up.sql"), up.sql)]
    if down is not None:
        files.append(create_file(os.path.join(migration, "down.sql"), down.sql))
    if not up.in_transaction:
        files.append(create_file(os.path.join(migration, "metadata.toml"), "run_in_transaction = false\n"))
    return files


_RUN_IN_TRANSACTION = re.compile(r"^[ \t]*run_in_transaction[ \t]*=.*$", re.MULTILINE)


def run_outside_transaction(path: str, text: str) -> list[Change] | None:
    """`run_in_transaction = false` in the migration's metadata.toml. It
    covers down.sql too, so only when that one can run outside a transaction."""
    migration = os.path.dirname(path)
    if not _run_in_transaction(migration):
        return []
    down = os.path.join(migration, "down.sql")
    if os.path.isfile(down) and not concurrent_index_statements(read_text(down)):
        return None
    metadata = os.path.join(migration, "metadata.toml")
    if not os.path.isfile(metadata):
        return [create_file(metadata, "run_in_transaction = false\n")]
    current = read_text(metadata)
    line = _RUN_IN_TRANSACTION.search(current)
    if line is not None:
        return [Change(metadata, line.start(), line.end(), "run_in_transaction = false")]
    at = len(current)
    return [Change(metadata, at, at, ("" if current.endswith("\n") or not current else "\n")
                   + "run_in_transaction = false\n")]


def list_units(directory: str, names: list[str], options: Options) -> Listing:
    units = []
    found, ignored = migration_directories(directory, names, options, f"diesel runs only {EXPECTED}")
    for entry, path, sql_inside in found:
        up = os.path.join(path, "up.sql")
        down = os.path.join(path, "down.sql")
        if not os.path.isfile(up):
            ignored.extend(Ignored(os.path.join(path, name), f"diesel runs only {EXPECTED}: no up.sql here")
                           for name in sql_inside)
            continue
        ignored.extend(Ignored(os.path.join(path, name), "diesel runs only up.sql and down.sql")
                       for name in sql_inside if name not in ("up.sql", "down.sql"))
        version, _, name = entry.partition("_")
        metadata_allows = _run_in_transaction(path)  # metadata.toml covers both directions
        units.append(Unit(version, name, f"{entry}/up.sql", Section(up),
                          Section(down) if os.path.isfile(down) else None,
                          metadata_allows and options.in_transaction(up), (version, name),
                          rollback_in_transaction=metadata_allows))
    units.sort(key=lambda unit: unit.order)
    return Listing(ID, directory, units, ignored, [], [], [], HAS_ROLLBACKS)

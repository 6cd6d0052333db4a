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

from mobius_sqlcheck.layouts import Ignored, Listing, Options, Section, Unit, is_sql

ID = "diesel"
SUMMARY = "diesel: <version>_<name>/up.sql with down.sql in the same directory"
HAS_ROLLBACKS = True
EXPECTED = "<version>_<name>/up.sql and <version>_<name>/down.sql"
PROJECT_DIRS = ("migrations",)
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


def list_units(directory: str, names: list[str], options: Options) -> Listing:
    units, ignored = [], []
    for entry in names:
        path = os.path.join(directory, entry)
        if not options.is_directory(directory, entry):
            if is_sql(entry):
                ignored.append(Ignored(path, f"diesel runs only {EXPECTED}"))
            continue
        up = os.path.join(path, "up.sql")
        down = os.path.join(path, "down.sql")
        sql_inside = sorted(name for name in os.listdir(path) if is_sql(name))
        if not os.path.isfile(up):
            ignored.extend(Ignored(os.path.join(path, name), f"diesel runs only {EXPECTED}: no up.sql here")
                           for name in sql_inside)
            continue
        ignored.extend(Ignored(os.path.join(path, name), "diesel runs only up.sql and down.sql")
                       for name in sql_inside if name not in ("up.sql", "down.sql"))
        version, _, name = entry.partition("_")
        in_transaction = _run_in_transaction(path) and options.in_transaction(up)
        units.append(Unit(version, name, f"{entry}/up.sql", Section(up),
                          Section(down) if os.path.isfile(down) else None, in_transaction, (version, name),
                          rollback_in_transaction=_run_in_transaction(path)))
    units.sort(key=lambda unit: unit.order)
    return Listing(ID, directory, units, ignored, [], [], [], HAS_ROLLBACKS)

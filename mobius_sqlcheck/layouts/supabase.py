"""The Supabase CLI: `supabase/migrations/<digits>_<anything>.sql`.

The CLI applies a file whose name matches `^([0-9]+)_(.*)\\.sql$` (supabase/cli
`pkg/migration`) in lexical file-name order, the whole file as one implicit
transaction (since v2.109 a file of only `CREATE/DROP INDEX CONCURRENTLY`
statements runs outside it), and records the digits as a text version; it skips any other file
with a warning (MSC110 here). It has no rollbacks: a team that keeps them
sets `rollbacks = "supabase/rollbacks"`, a directory of files named like their
forward migration (`<version>_<name>.sql` or `<version>_<name>_rollback.sql`).
A rollback file inside `supabase/migrations` would be applied as a migration
(MSC108).
"""

from __future__ import annotations

import os
import re

from mobius_sqlcheck.layouts import (
    Change, Ignored, Listing, Options, Script, Section, Unit, create_file, entries, has_our_no_transaction,
    next_number, read_text, sql_files
)
from mobius_sqlcheck.layouts.mobius import NO_TRANSACTION_MARKER

ID = "supabase"
SUMMARY = "the Supabase CLI: supabase/migrations/<timestamp>_<name>.sql, no rollbacks"
HAS_ROLLBACKS = False
EXPECTED = "<digits>_<name>.sql (supabase migration new writes YYYYMMDDHHMMSS_<name>.sql)"
PROJECT_DIRS = ("supabase/migrations",)
# MSC504's hint: how this tool runs a statement that cannot run in a transaction.
OUTSIDE_TRANSACTION = (
    "Move it to its own migration file holding only CREATE / DROP INDEX CONCURRENTLY statements (the "
    "Supabase CLI runs such a file outside its transaction), with IF [NOT] EXISTS so that a retry can re-"
    "run it.")
SEQUENTIAL = False


def expected_rollback(unit: Unit) -> str:
    return f"rollback file {unit.display} in the rollbacks directory"

CLI_NAME = re.compile(r"^([0-9]+)_(.*)\.sql$")
# Since CLI v2.109 a file whose statements are all CREATE/DROP INDEX CONCURRENTLY
# runs them outside the batch's transaction.
_CONCURRENT_INDEX = re.compile(r"^(create\s+(unique\s+)?index\s+concurrently|drop\s+index\s+concurrently)\b",
                               re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def _only_concurrent_indexes(text: str) -> bool:
    statements = [part.strip() for part in _COMMENT.sub(" ", text).split(";") if part.strip()]
    return bool(statements) and all(_CONCURRENT_INDEX.match(statement) for statement in statements)
ROLLBACK_SUFFIX = "_rollback"


def next_version(versions: list[str]) -> str:
    return next_number(versions)


def new_migration(directory: str, version: str, name: str, up: Script, down: Script | None,
                  options: Options) -> list[Change] | None:
    """The CLI's file (run outside its transaction only when it holds only
    CREATE / DROP INDEX CONCURRENTLY); the rollback in the rollbacks
    directory, if the project keeps one (our `rollback` command runs it,
    and reads our marker)."""
    if not up.in_transaction and not _only_concurrent_indexes(up.sql):
        return None
    files = [create_file(os.path.join(directory, f"{version}_{name}.sql"), up.sql)]
    if down is not None and options.rollbacks:
        text = down.sql if down.in_transaction else f"{NO_TRANSACTION_MARKER}\n{down.sql}"
        files.append(create_file(os.path.join(options.rollbacks, f"{version}_{name}.sql"), text))
    return files


def run_outside_transaction(path: str, text: str) -> list[Change] | None:
    """The CLI has no marker: a file of only CREATE / DROP INDEX CONCURRENTLY
    runs outside its transaction as it is; anything else cannot."""
    return [] if _only_concurrent_indexes(text) else None


def is_supabase_directory(directory: str) -> bool:
    parts = os.path.normpath(os.path.abspath(directory or ".")).split(os.sep)
    return parts[-2:] == ["supabase", "migrations"]


def evidence(directory: str, names: list[str]) -> int:
    return 10**9 if is_supabase_directory(directory) else 0


def list_units(directory: str, names: list[str], options: Options) -> Listing:
    forwards: list[tuple[str, str, str]] = []  # (file name, version, name)
    rollbacks: dict[str, str] = {}  # stem -> path
    ignored = []
    for filename, path in sql_files(directory, names, options):
        match = CLI_NAME.match(filename)
        if match is None:
            ignored.append(Ignored(path, f"the Supabase CLI skips it: not named {EXPECTED}"))
        elif match[2].endswith(ROLLBACK_SUFFIX):
            rollbacks[f"{match[1]}_{match[2][:-len(ROLLBACK_SUFFIX)]}"] = path  # applied as a migration: MSC108
        else:
            forwards.append((filename, match[1], match[2]))
    if options.rollbacks:
        for filename in entries(options.rollbacks):
            match = CLI_NAME.match(filename)
            if match is not None:
                name = match[2][:-len(ROLLBACK_SUFFIX)] if match[2].endswith(ROLLBACK_SUFFIX) else match[2]
                rollbacks.setdefault(f"{match[1]}_{name}", os.path.join(options.rollbacks, filename))
    forwards.sort()  # the CLI sorts by file name
    units = []
    for filename, version, name in forwards:
        path = os.path.join(directory, filename)
        rollback = rollbacks.pop(f"{version}_{name}", None)
        text = read_text(path)
        in_transaction = not (has_our_no_transaction(text) or _only_concurrent_indexes(text))
        units.append(Unit(version, name, filename, Section(path), Section(rollback) if rollback else None,
                          in_transaction, (filename,)))
    orphans = [Section(path) for path in sorted(rollbacks.values())]
    return Listing(ID, directory, units, ignored, [], orphans, [], bool(options.rollbacks))

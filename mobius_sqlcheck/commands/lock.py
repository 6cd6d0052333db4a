"""`mobius-sqlcheck lock [DIRECTORY]`: write the migration lock file (sqlcheck.sum).

Locking a new migration appended after the newest locked one is routine.
Re-locking an edited migration, or a new one that sorts before the newest
locked one, would silently bless exactly what the lock file exists to catch
(MSC105, MSC104), so it needs `--force`; so does replacing an invalid lock
file (an unresolved merge conflict).
"""

from __future__ import annotations

import argparse
import os
import sys

from mobius_sqlcheck import lockfile
from mobius_sqlcheck.config import load_config
from mobius_sqlcheck.errors import EXIT_OK, OperationFailed, UsageError
from mobius_sqlcheck.migrations import MigrationSet, load_layout_set


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", nargs="?", metavar="DIRECTORY",
                        help="migrations directory (default: the configured one)")
    parser.add_argument("--force", action="store_true",
                        help="also accept edited locked migrations and migrations inserted before the newest locked one")
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read (default: found upwards)")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    directory = args.directory or config.migrations
    if not args.directory and not config.migrations_configured:
        from mobius_sqlcheck.layouts import find_migrations_directory

        directory = find_migrations_directory(".")
    if not os.path.isdir(directory):
        raise UsageError(f"not a directory: {directory}")
    path = lockfile.lock_path(directory, config.lock_file)
    migration_set = load_layout_set(directory, config.layout, config.rollbacks)  # the layout's files
    if not lockfile.locked_files(migration_set):
        raise UsageError(f"no migrations in {directory}: nothing to lock")
    try:
        new = lockfile.build(migration_set)
    except lockfile.LockFileError as error:
        raise OperationFailed(str(error)) from None
    if not args.force:
        _refuse_unsafe(path, migration_set, new)
    if _current_text(path) == lockfile.render(new):
        print(f"{path} is up to date ({len(new.entries)} files)")
        return EXIT_OK
    lockfile.write(path, new)
    print(f"wrote {path} ({len(new.entries)} files)")
    return EXIT_OK


def _refuse_unsafe(path: str, migration_set: MigrationSet, new: lockfile.LockFile) -> None:
    try:
        old = lockfile.read(path)
    except lockfile.LockFileError as error:
        where = f"{path}:{error.line}" if error.line else path
        raise OperationFailed(f"{where}: {error}; check the order of the migrations both branches "
                              "added, then run `mobius-sqlcheck lock --force`") from None
    if old is None:
        return
    problems = unsafe_changes(old, new, migration_set)
    if problems:
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        raise OperationFailed("lock file not written; run `mobius-sqlcheck lock --force` to accept these changes")


def unsafe_changes(old: lockfile.LockFile, new: lockfile.LockFile, migration_set: MigrationSet) -> list[str]:
    """What re-locking would accept beyond appending migrations (in the layout's order)."""
    problems = []
    for name, digest in old.entries.items():
        if name not in new.entries:
            problems.append(f"locked migration {name} was deleted or renamed")
        elif new.entries[name] != digest:
            problems.append(f"locked migration {name} was modified")
    newest, inserted = lockfile.inserted_before_newest(old, migration_set)
    for migration in inserted:
        if newest is not None:
            problems.append(f"{migration.filename} sorts before {newest.filename}, the newest locked migration")
    return problems


def _current_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None

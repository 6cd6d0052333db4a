"""The lock file cannot be read, or its first line does not match its entries.

## What it does
Reports a `sqlcheck.sum` that cannot be parsed (an unresolved merge conflict,
a line that is not `<file> h1:<sum>`) or whose first line, the checksum of
all its entries, does not match them. The report is attached to the newest
migration, since that is the file most likely added by the branch at fault.

## Why is this bad?
The first line changes with every migration added, so that two branches that
each add one conflict in git. A first line that does not match means the
conflict was resolved by hand (or the file was edited), and two migrations
added in parallel may now apply in an order nobody tested. Until the lock file
is valid, MSC104, MSC105 and MSC107 cannot check anything.

## Example
```text
<<<<<<< HEAD
h1:Ab3...=
=======
h1:Zx9...=
>>>>>>> feature/ratings
```

## Use instead
Make sure the migrations added on both branches apply in the right order
(renumber yours after the other branch's), then regenerate the file with
`mobius-sqlcheck lock --force`.
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import lockfile
from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC109"
NAME = "invalid-lock-file"
SEVERITY = "error"
HINT = ("Check the order of the migrations both branches added, then regenerate the lock file "
        "with `mobius-sqlcheck lock --force`.")


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    path = lockfile.lock_path(ctx.migration_set.directory, ctx.config.lock_file)
    try:
        lock = lockfile.read(path)
    except lockfile.LockFileError as error:
        where = f"{path}:{error.line}" if error.line else path
        yield Finding(f"{where}: {error}", path=lockfile.anchor_path(ctx.migration_set))
        return
    if lock is not None and not lock.is_consistent:
        yield Finding(f"{path}: the first line does not match the entries "
                      "(merged or edited by hand)", path=lockfile.anchor_path(ctx.migration_set))

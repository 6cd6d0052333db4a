"""A migration missing from an existing lock file.

## What it does
When the migrations directory has a lock file (`sqlcheck.sum`), reports every
migration file (forward or rollback) that it does not list. A directory
without a lock file is not checked: run `mobius-sqlcheck lock` once to start.

## Why is this bad?
The lock file is what makes a change to an applied migration (MSC105) or a
migration inserted into the past (MSC104) visible. A file left out of it is
guarded by neither. Locking each new migration in the same commit also makes
two branches that both add one conflict in git, where it is cheap to notice.

## Example
```text
migrations/006_add_ratings.sql   # added, `mobius-sqlcheck lock` not run
```

## Use instead
```sh
mobius-sqlcheck lock
git add migrations/006_add_ratings.sql migrations/sqlcheck.sum
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import lockfile
from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC107"
NAME = "migration-not-locked"
SEVERITY = "error"
HINT = "Run `mobius-sqlcheck lock` and commit the lock file with the migration."


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    lock = lockfile.read_quietly(ctx.migration_set, ctx.config.lock_file)
    if lock is None:
        return
    for migration in lockfile.locked_files(ctx.migration_set):
        if migration.filename not in lock.entries:
            yield Finding(f"{migration.filename} is not in {ctx.config.lock_file}", path=migration.path)

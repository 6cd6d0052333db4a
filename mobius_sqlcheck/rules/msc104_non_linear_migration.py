"""A new migration that sorts before the newest locked one.

## What it does
Reports a forward migration that is not in the lock file (`sqlcheck.sum`)
yet sorts before the newest migration that is: a file added "in the past",
typically on a branch that was started before someone else's migration was
merged.

## Why is this bad?
Databases that already applied the newest locked migration will apply the new
one after it, while a fresh database applies it before: two orders, two
possibly different schemas. Its author also tested it against a schema
without the migrations that now precede it.

## Example
```text
migrations/sqlcheck.sum        # locks 001 ... 005
migrations/003_add_ratings.sql # new, sorts before 005
```

## Use instead
```text
migrations/006_add_ratings.sql # renumbered after the newest locked migration
```
then run `mobius-sqlcheck lock`.
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import lockfile
from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC104"
NAME = "non-linear-migration"
SEVERITY = "error"
HINT = "Renumber the migration after the newest locked one, then run `mobius-sqlcheck lock`."


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    lock = lockfile.read_quietly(ctx.migration_set, ctx.config.lock_file)
    if lock is None:
        return
    newest, inserted = lockfile.inserted_before_newest(lock, ctx.migration_set)  # in the layout's order
    for migration in inserted:
        if newest is not None:
            yield Finding(f"{migration.filename} is not locked and sorts before {newest.filename}, "
                          "the newest locked migration", path=migration.path)

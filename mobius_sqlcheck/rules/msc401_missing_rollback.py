"""A forward migration without its rollback file.

## What it does
Reports every forward migration `NNN_name.sql` that has no
`NNN_name_rollback.sql` beside it.

## Why is this bad?
`mobius-sqlcheck rollback` undoes migrations by running their rollback files,
newest first. Without one, a bad deploy can only be undone by hand, under
pressure, in production. Writing the rollback with the migration also shows
early what a change would lose.

## Example
```text
migrations/005_add_compressed_twin.sql
```

## Use instead
```text
migrations/005_add_compressed_twin.sql
migrations/005_add_compressed_twin_rollback.sql   -- drops the index, then the column
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC401"
NAME = "missing-rollback"
SEVERITY = "error"
HINT = ("Add the rollback file. If the change truly cannot be undone, make the rollback say so and fail: "
        "DO $$ BEGIN RAISE EXCEPTION 'irreversible: <why>'; END $$;")


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    for forward in ctx.migration_set.forwards:
        if ctx.migration_set.rollback_for(forward) is None:
            yield Finding(f"no rollback file {forward.stem}_rollback.sql for this migration", path=forward.path)

"""A forward migration without its rollback file.

## What it does
Reports every forward migration that has no rollback, as its layout names
it: `NNN_name_rollback.sql` beside `NNN_name.sql` (ours), a `.down.sql`
(golang-migrate), a `-- migrate:down` section (dbmate), `down.sql` (diesel),
a `U` file (Flyway, once any exists). A layout whose tool has no rollbacks
(the Supabase CLI, Prisma) needs none, unless `require_rollback = true`
(a Supabase project that keeps them sets `rollbacks = "supabase/rollbacks"`).

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
    migration_set = ctx.migration_set
    # A layout without rollbacks (Supabase CLI, Prisma; Flyway until an undo
    # file exists) needs none, unless the project asks for them.
    if not (migration_set.has_rollbacks or ctx.config.require_rollback):
        return
    for forward in migration_set.forwards:
        if forward.repeatable or migration_set.rollback_for(forward) is not None:
            continue
        expected = migration_set.rollback_names.get(forward.stem, f"rollback file {forward.stem}_rollback.sql")
        yield Finding(f"no {expected} for this migration", path=forward.path)

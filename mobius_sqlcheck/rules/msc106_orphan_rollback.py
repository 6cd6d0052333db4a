"""A rollback file without its forward migration.

## What it does
Reports `NNN_name_rollback.sql` when no `NNN_name.sql` exists in the same
directory; in the other layouts, a `.down.sql` without its `.up.sql`
(golang-migrate), a `U` file without its `V` file (Flyway), a rollback in the
Supabase rollbacks directory without its migration.

## Why is this bad?
The rollback can never be run by the applier, and it usually means the
forward file was renamed and its rollback was not: that migration now has no
rollback at all.

## Example
```text
migrations/005_add_compressed_twin.sql
migrations/005_add_compresed_twin_rollback.sql
```

## Use instead
```text
migrations/005_add_compressed_twin.sql
migrations/005_add_compressed_twin_rollback.sql
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC106"
NAME = "orphan-rollback"
SEVERITY = "error"
HINT = "Rename it to match its forward migration, or delete it."


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    for rollback in ctx.migration_set.orphan_rollbacks:
        if rollback.display:  # another layout's names: a .down.sql without its .up.sql, a U file without its V file
            yield Finding(f"{rollback.filename} is a rollback without its forward migration", path=rollback.path)
        else:
            yield Finding(f"no forward migration {rollback.stem}.sql for this rollback", path=rollback.path)

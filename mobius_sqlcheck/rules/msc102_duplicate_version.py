"""Two forward migrations with the same numeric version.

## What it does
Reports every forward migration whose version number is already used by an
earlier file of the directory (`004_learning_privacy.sql` and
`004_storage_buckets.sql`). A duplicate that was already applied in
production can be grandfathered in configuration:
`grandfathered_duplicate_versions = ["004"]`.

## Why is this bad?
Tools that record migrations by version (the Supabase CLI's
`schema_migrations` has the version as its primary key) cannot record the
second file: it fails, or is silently skipped on the next run.

## Example
```text
migrations/004_learning_privacy.sql
migrations/004_storage_buckets.sql
```

## Use instead
```text
migrations/004_learning_privacy.sql
migrations/006_storage_buckets.sql
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC102"
NAME = "duplicate-version"
SEVERITY = "error"
HINT = ("Give the new file the next free version; if both were already applied, add the version to "
        "grandfathered_duplicate_versions in [tool.mobius_sqlcheck].")


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    grandfathered = {int(version) for version in ctx.config.grandfathered_duplicate_versions}
    first_by_number: dict[int, str] = {}
    for migration in ctx.migration_set.forwards:
        first = first_by_number.setdefault(migration.number, migration.filename)
        if first != migration.filename and migration.number not in grandfathered:
            yield Finding(f"version {migration.version} is also used by {first}", path=migration.path)

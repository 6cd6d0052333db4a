"""Two forward migrations with the same numeric version.

## What it does
Reports every forward migration whose version number is already used by an
earlier file of the directory (`004_learning_privacy.sql` and
`004_storage_buckets.sql`). A duplicate that was already applied in
production can be grandfathered in configuration:
`grandfathered_duplicate_versions = ["004"]`.
Versions compare as the layout's tool compares them: Flyway's `V1_1` is
1.1, not 11, and a repeatable `R__` migration has no version.

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
from mobius_sqlcheck.migrations import version_key

CODE = "MSC102"
NAME = "duplicate-version"
SEVERITY = "error"
HINT = ("Give the new file the next free version; if both were already applied, add the version to "
        "grandfathered_duplicate_versions in [tool.mobius_sqlcheck].")


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    grandfathered = {version_key(version) for version in ctx.config.grandfathered_duplicate_versions}
    first_by_version: dict[tuple[int, ...], str] = {}
    for migration in ctx.migration_set.forwards:
        if migration.repeatable:  # Flyway R__: no version at all
            continue
        # As the tool compares versions: Flyway's 1.1 is not 11.
        first = first_by_version.setdefault(migration.version_key, migration.filename)
        if first != migration.filename and migration.version_key not in grandfathered:
            yield Finding(f"version {migration.version} is also used by {first}", path=migration.path)

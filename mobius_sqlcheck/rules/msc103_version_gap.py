"""A missing number in the version sequence.

## What it does
Reports a forward migration whose version is more than one above the previous
version (`003` followed by `005`). Versions of eight or more digits are
timestamps (Supabase's `YYYYMMDDHHMMSS`) and are never checked for gaps.

## Why is this bad?
A gap usually means a migration was deleted, renamed or not yet merged; a
branch that still has `004` will later insert it before `005` (see MSC104).

## Example
```text
migrations/003_add_feedback.sql
migrations/005_add_compressed_twin.sql
```

## Use instead
```text
migrations/003_add_feedback.sql
migrations/004_add_compressed_twin.sql
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC103"
NAME = "version-gap"
SEVERITY = "warning"
HINT = "Renumber the migration if it was never applied anywhere, or restore the missing one."
TIMESTAMP_DIGITS = 8


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    previous = None
    if not ctx.migration_set.sequential:  # timestamps, dotted or text versions: gaps are normal
        return
    for migration in ctx.migration_set.forwards:
        if len(migration.version) >= TIMESTAMP_DIGITS:
            return
        if previous is not None and migration.number > previous + 1:
            missing = _describe_missing(previous + 1, migration.number - 1, len(migration.version))
            yield Finding(f"version {missing} missing before {migration.filename}", path=migration.path)
        previous = migration.number


def _describe_missing(low: int, high: int, width: int) -> str:
    if low == high:
        return f"{low:0{width}d} is"
    return f"{low:0{width}d} to {high:0{width}d} are"

"""A migration file with no statement.

## What it does
Reports a migration file that holds no SQL statement: an empty file, or one
with comments only.

## Why is this bad?
An empty migration is usually a file created and forgotten, or content lost
in a merge; it is recorded as applied and hides the missing change.

## Example
```sql
-- 006_add_brand_locale.sql
-- TODO
```

## Use instead
```sql
ALTER TABLE brands ADD COLUMN locale varchar(16);
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck.context import FileContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC003"
NAME = "empty-migration"
SEVERITY = "warning"
CATALOG_FREE = True  # runs beside the replay on a long history
HINT = "Add the migration's SQL or delete the file."


def check_file(ctx: FileContext) -> Iterator[Finding]:
    parsed = ctx.parsed
    if parsed is None or parsed.statements or parsed.problems:
        return
    if ctx.migration.is_section:  # a dbmate section: the file around it is not empty
        side = "down" if ctx.migration.is_rollback else "up"
        yield Finding(f"the `-- migrate:{side}` section has no statement", ctx.migration.start,
                      hint="Write its SQL: dbmate runs this section and does nothing.")
        return
    what = "comments only" if ctx.source and ctx.source.text.strip() else "an empty file"
    yield Finding(f"migration has no statement ({what})")

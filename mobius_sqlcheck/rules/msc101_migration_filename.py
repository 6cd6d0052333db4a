r"""A `.sql` file in a migrations directory not named `NNN_snake_case.sql`.

## What it does
Checks every `.sql` file of a migrations directory against
`NNN_snake_case.sql` (forward) and `NNN_snake_case_rollback.sql` (rollback):
a version of digits (`001`, or a Supabase timestamp such as `20240611120000`),
an underscore, then lower-case words joined by underscores.

## Why is this bad?
The version is what orders and records a migration. A file without one is
never applied, or applied in an order nobody chose; mixed case and dashes make
the rollback pairing and the Supabase CLI's `^([0-9]+)_(.*)\.sql$` disagree.

## Example
```text
migrations/AddTemplates.sql
migrations/2-add-templates.sql
```

## Use instead
```text
migrations/002_add_templates.sql
migrations/002_add_templates_rollback.sql
```
"""

from __future__ import annotations

import os
from typing import Iterator

from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC101"
NAME = "migration-filename"
SEVERITY = "error"
HINT = "Rename it to NNN_snake_case.sql (or NNN_snake_case_rollback.sql for a rollback)."


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    for migration in ctx.migration_set.all_files():
        if not migration.well_named:
            yield Finding(f"'{migration.filename}' is not named NNN_snake_case.sql", path=migration.path)
    for path in ctx.migration_set.other_sql:
        yield Finding(f"'{os.path.basename(path)}' has no version number, so it is never applied",
                      path=path)

"""A `.sql` file in a migrations directory that its layout would never apply.

## What it does

Reports every `.sql` file of a migrations directory that the migration tool
of the layout in force would skip: the Supabase CLI skips a name that does
not match `^([0-9]+)_(.*)\\.sql$`, golang-migrate ignores a file without
`.up.` or `.down.`, diesel runs only `<version>_<name>/up.sql`, dbmate refuses
a file without `-- migrate:up`. In a directory of `.sql` files that no layout
recognizes at all, every file is reported, with the names each layout
expects.

## Why is this bad?

A file the tool never applies is a change that never reaches the database,
and a linter that checks only the files it understands would say "no
problems" about a directory it did not check at all.

## Example

```text
supabase/migrations/20240611120000_create_profiles.sql
supabase/migrations/add-notes.sql        -- the CLI skips it with a warning
```

## Use instead

```text
supabase/migrations/20240611120000_create_profiles.sql
supabase/migrations/20240612093000_add_notes.sql
```

Or, if the directory is another tool's, say which: `layout = "dbmate"` (or
`golang-migrate`, `diesel`, `flyway`, `prisma`, `supabase`, `mobius`).
"""

from __future__ import annotations

import os
from typing import Iterator

from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC110"
NAME = "unrecognized-migration-file"
SEVERITY = "warning"
HINT = "Rename the file as its migration tool expects, move it out of the migrations directory, or set `layout`."


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    for path, reason in ctx.migration_set.ignored:
        yield Finding(f"'{os.path.basename(path)}' is never applied ({ctx.migration_set.layout} layout): {reason}",
                      path=path)

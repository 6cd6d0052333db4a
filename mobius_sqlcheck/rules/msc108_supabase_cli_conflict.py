"""A file in `supabase/migrations` that the Supabase CLI would mis-apply.

## What it does
In a directory named `supabase/migrations` (the one `supabase db push` and
`supabase migration up` read), reports:

- a rollback file: the CLI reads `005_add_compressed_twin_rollback.sql` as a
  migration of version 005 like any other and would run it;
- a second file of one version: the CLI keys migrations by the digits before
  the first `_` (`004_learning_privacy.sql` and `004_storage_buckets.sql` are
  both version `004`), so the second fails on the primary key of
  `supabase_migrations.schema_migrations` and its push rolls back.

Versions are compared as the CLI does, as text: `04_a.sql` and `004_b.sql`
do not collide for the CLI.

## Why is this bad?
`supabase db push` would undo a migration right after applying it, or stop
half-way through a deploy.

## Example
```text
supabase/migrations/005_add_compressed_twin.sql
supabase/migrations/005_add_compressed_twin_rollback.sql
```

## Use instead
Keep this layout in a directory the CLI does not read (`migrations/`) and
apply it with `mobius-sqlcheck apply`, or keep only forward migrations, one
per version, in `supabase/migrations`.
"""

from __future__ import annotations

import os
import re
from typing import Iterator

from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC108"
NAME = "supabase-cli-conflict"
SEVERITY = "error"
HINT = ("Apply this directory with `mobius-sqlcheck apply` instead of the Supabase CLI, or keep rollback "
        "files and second versions out of supabase/migrations.")

# The Supabase CLI's own file-name pattern (pkg/migration): the digits are the version.
CLI_FILENAME = re.compile(r"^([0-9]+)_(.*)\.sql$")


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    if not is_supabase_migrations_dir(ctx.migration_set.directory):
        return
    paths = [m.path for m in ctx.migration_set.all_files()] + ctx.migration_set.other_sql
    first_of_version: dict[str, str] = {}
    for path in sorted(paths, key=os.path.basename):  # the CLI applies in file-name order
        match = CLI_FILENAME.match(os.path.basename(path))
        if match is None:
            continue  # the CLI skips it
        version, name = match.groups()
        if name.endswith("_rollback"):
            yield Finding(f"the Supabase CLI reads {os.path.basename(path)} as migration version {version} "
                          "and would apply this rollback", path=path)
        elif version in first_of_version:
            yield Finding(f"the Supabase CLI keys migrations by version: this is a second version {version} "
                          f"after {first_of_version[version]}, and `supabase db push` would fail on it",
                          path=path)
        else:
            first_of_version[version] = os.path.basename(path)


def is_supabase_migrations_dir(directory: str) -> bool:
    parent, name = os.path.split(os.path.abspath(directory or "."))
    return name == "migrations" and os.path.basename(parent) == "supabase"

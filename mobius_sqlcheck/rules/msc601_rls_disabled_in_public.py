"""A table in schema public that never gets row level security.

## What it does
After replaying every migration, reports each table in schema `public` whose
row level security is not enabled (`ALTER TABLE ... ENABLE ROW LEVEL
SECURITY`). Enabling it later, in the same file or a later one, is enough;
disabling it again brings the finding back. The finding points at the
`CREATE TABLE`. `FORCE ROW LEVEL SECURITY` alone does not enable it. Views,
temporary tables and tables created outside these migrations are not
checked. Only a Supabase project's history is checked (the Supabase CLI
layout, a `supabase/config.toml` in or above the directory, or migrations
that touch `auth`, `storage` or a storage bucket): plain PostgreSQL does not
expose `public` through an API.

## Why is this bad?
Supabase exposes every table in `public` through its REST API, and grants
the `anon` and `authenticated` roles full privileges on them. Without RLS,
anyone holding the public anon key can read and change every row of
`brands`. With RLS enabled and no policy, only roles that bypass RLS (the
backend's `service_role`) see anything.

## Example
```sql
CREATE TABLE public.templates (template_id uuid PRIMARY KEY DEFAULT gen_random_uuid());
```

## Use instead
```sql
CREATE TABLE public.templates (template_id uuid PRIMARY KEY DEFAULT gen_random_uuid());
-- No policy: only service_role (which bypasses RLS) may read or write.
ALTER TABLE public.templates ENABLE ROW LEVEL SECURITY;
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.context import HistoryContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.supabase_project import is_supabase_history

CODE = "MSC601"
NAME = "rls-disabled-in-public"
SEVERITY = "warning"
HINT = ("ALTER TABLE ... ENABLE ROW LEVEL SECURITY, then add policies for the roles that may use it "
        "(none if only service_role may).")
PUBLIC_SCHEMA = "public"


def check_history(ctx: HistoryContext) -> Iterator[Finding]:
    if not is_supabase_history(ctx.migration_set, ctx.catalog):
        return
    for table in ctx.reportable(ctx.catalog.tables):
        if (table.schema != PUBLIC_SCHEMA or table.kind != "table" or table.temporary or table.external
                or table.rls_enabled or table.origin is None):
            continue
        yield Finding(f"table {nodes.display(table.key)} has row level security disabled after every migration: "
                      "the anon and authenticated roles can read and write all of it through the Supabase API",
                      table.origin.offset, path=table.origin.path)

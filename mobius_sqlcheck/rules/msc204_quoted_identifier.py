"""A quoted identifier, or one that is not lower snake_case.

## What it does
Reports identifiers written in double quotes, except names the user does
not choose: an extension's (`create extension "uuid-ossp"`), and in a
Supabase project a policy's, which is free text there
(`"Public profiles are viewable by everyone."`, as Supabase's docs write
them). A quoted name that is not
lower snake_case (`"BrandAssets"`, `"brand id"`) is case- and
space-sensitive forever; a quoted name that is lower snake_case is needless
noise, or a reserved word (`"order"`) that every query must quote.
Unquoted identifiers are folded to lower case by PostgreSQL, so they cannot
be mixed case.

## Why is this bad?
Every query, ORM mapping and policy must then repeat the exact quoting;
forgetting it is an "relation does not exist" error at run time. Supabase's
generated APIs expose the names as they are.

## Example
```sql
CREATE TABLE "Templates" ("templateId" uuid PRIMARY KEY);
```

## Use instead
```sql
CREATE TABLE templates (template_id uuid PRIMARY KEY);
```
"""

from __future__ import annotations

import re
from typing import Iterator

from mobius_sqlcheck.context import FileContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.rules._support.identifiers import identifiers
from mobius_sqlcheck.supabase_project import is_supabase_directory

CODE = "MSC204"
NAME = "quoted-identifier"
SEVERITY = "warning"
CATALOG_FREE = True  # runs beside the replay on a long history
_SNAKE_CASE = re.compile(r"^[a-z_][a-z0-9_]*$")


# The words before a name that the user does not choose as an identifier:
# an extension's name is the extension's ("uuid-ossp"); in a Supabase project a
# policy's name is free text ("Public profiles are viewable by everyone.").
_EXTENSION_NAME = re.compile(rb"\bextension\s+(?:if\s+(?:not\s+)?exists\s+)?$", re.IGNORECASE)
_POLICY_NAME = re.compile(rb"\bpolicy\s+(?:if\s+exists\s+)?$", re.IGNORECASE)
_LOOK_BEHIND = 40  # bytes: enough for `create extension if not exists `


def check_file(ctx: FileContext) -> Iterator[Finding]:
    if ctx.source is None or '"' not in ctx.source.text:
        return
    supabase = None  # decided on the first quoted name: most files have none
    data = ctx.source.data
    for identifier in identifiers(ctx.source):
        if not identifier.quoted:
            continue
        before = data[max(0, identifier.start - _LOOK_BEHIND):identifier.start]
        if _EXTENSION_NAME.search(before):
            continue
        if _POLICY_NAME.search(before):
            if supabase is None:
                supabase = _in_supabase_project(ctx)
            if supabase:
                continue
        if _SNAKE_CASE.match(identifier.name):
            message = f"needless quotes around {identifier.text}"
            hint = f"Write it unquoted ({identifier.name}); if it is a reserved word, choose another name."
        else:
            message = f"quoted identifier {identifier.text} is not lower snake_case"
            hint = "Use an unquoted lower snake_case name."
        yield Finding(message, identifier.start, identifier.end, hint=hint)


def _in_supabase_project(ctx: FileContext) -> bool:
    migration_set = ctx.migration_set
    if is_supabase_directory(migration_set.layout, migration_set.directory):
        return True
    text = ctx.source.text if ctx.source is not None else ""
    return "auth." in text or "storage." in text  # the file uses the platform's objects

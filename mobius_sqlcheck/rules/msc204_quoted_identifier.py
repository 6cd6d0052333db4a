"""A quoted identifier, or one that is not lower snake_case.

## What it does
Reports identifiers written in double quotes. A quoted name that is not
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

CODE = "MSC204"
NAME = "quoted-identifier"
SEVERITY = "warning"
_SNAKE_CASE = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_file(ctx: FileContext) -> Iterator[Finding]:
    if ctx.source is None or '"' not in ctx.source.text:
        return
    for identifier in identifiers(ctx.source):
        if not identifier.quoted:
            continue
        if _SNAKE_CASE.match(identifier.name):
            message = f"needless quotes around {identifier.text}"
            hint = f"Write it unquoted ({identifier.name}); if it is a reserved word, choose another name."
        else:
            message = f"quoted identifier {identifier.text} is not lower snake_case"
            hint = "Use an unquoted lower snake_case name."
        yield Finding(message, identifier.start, identifier.end, hint=hint)

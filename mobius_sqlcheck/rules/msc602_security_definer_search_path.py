"""A SECURITY DEFINER function without a fixed search_path.

## What it does
After replaying every migration, reports each `SECURITY DEFINER` function
whose `search_path` is not pinned, neither in its definition (`SET
search_path = ...`) nor by a later `ALTER FUNCTION ... SET search_path`. A
later `ALTER FUNCTION ... RESET search_path` unpins it again. The finding
points at the `CREATE FUNCTION`.

## Why is this bad?
A SECURITY DEFINER function runs with its owner's rights, but resolves
unqualified names through the caller's `search_path`. A caller who can
create objects in a schema earlier on that path (or in `pg_temp`) can make
`log_privacy_tier_change()` call their own `now()` or insert into their own
`learning_audit_log`, with the owner's privileges.

## Example
```sql
CREATE FUNCTION public.log_privacy_tier_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
AS $$ BEGIN INSERT INTO learning_audit_log (brand_id) VALUES (NEW.brand_id); RETURN NULL; END $$;
```

## Use instead
```sql
CREATE FUNCTION public.log_privacy_tier_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$ BEGIN INSERT INTO public.learning_audit_log (brand_id) VALUES (NEW.brand_id); RETURN NULL; END $$;
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.context import HistoryContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC602"
NAME = "security-definer-search-path"
SEVERITY = "warning"
HINT = ("Add SET search_path = '' to the function and schema-qualify every name in its body, or "
        "ALTER FUNCTION ... SET search_path = '' in a later migration.")


def check_history(ctx: HistoryContext) -> Iterator[Finding]:
    for function in ctx.reportable(ctx.catalog.functions):
        if not function.security_definer or function.search_path_fixed or function.origin is None:
            continue
        shown = function.key.display() if function.args else f"{nodes.display((function.schema, function.name))}()"
        yield Finding(f"SECURITY DEFINER function {shown} has no "
                      "fixed search_path: callers can make it run their own objects with its owner's rights",
                      function.origin.offset, path=function.origin.path)

"""An object the forward migration creates that its rollback leaves behind.

## What it does
Replays the forward migration, then its rollback, on the catalog of
everything before it, and reports each object the forward migration created
that still exists afterwards: tables, views, sequences, added columns,
indexes, functions, triggers, types, policies, schemas, extensions and
storage bucket rows. Implicit removal counts: `DROP TABLE` takes the table's
columns, indexes, triggers and policies with it; `DROP FUNCTION ... CASCADE`
takes the triggers that call it; `DROP SCHEMA ... CASCADE` takes what is in
the schema; `ALTER TABLE ... DROP COLUMN` takes the indexes and constraints
on the column; `DELETE FROM storage.buckets WHERE id ...` removes bucket rows.
Each object is reported once, at the statement that created it; an object
left behind with its table is covered by the table's finding.

## Why is this bad?
After the rollback the database is neither the old schema nor the new one.
Re-applying the migration then fails on the leftover (`relation
"idx_brands_compressed_twin" already exists`), and `verify` reports a schema
nobody wrote.

## Example
```sql
-- 005_add_compressed_twin.sql
ALTER TABLE public.brands ADD COLUMN compressed_twin jsonb;
CREATE INDEX idx_brands_compressed_twin ON public.brands (brand_id) WHERE compressed_twin IS NOT NULL;
-- 005_add_compressed_twin_rollback.sql
DROP INDEX IF EXISTS public.idx_brands_compressed_twin;
```

## Use instead
```sql
-- 005_add_compressed_twin_rollback.sql
DROP INDEX IF EXISTS public.idx_brands_compressed_twin;
ALTER TABLE IF EXISTS public.brands DROP COLUMN IF EXISTS compressed_twin;
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck.catalog import Catalog, ObjectRef, Origin
from mobius_sqlcheck.context import RollbackContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC402"
NAME = "incomplete-rollback"
SEVERITY = "error"
HINT = "Drop it in the rollback file (with IF EXISTS), after whatever depends on it."
# Kinds that belong to one table: covered when that table itself is left behind.
_TABLE_PARTS = ("column", "index", "trigger", "policy")


def check_rollback(ctx: RollbackContext) -> Iterator[Finding]:
    left = _left_behind(ctx)
    left_tables = {ref.key for ref in left if ref.kind == "table"}
    rollback_name = ctx.rollback.filename
    for ref, origin in left.items():
        if ref.kind in _TABLE_PARTS and _owner(ref, ctx.after_forward) in left_tables:
            continue
        yield Finding(f"{ref.describe()} is created here but {rollback_name} leaves it behind",
                      origin.offset, path=origin.path)


def _left_behind(ctx: RollbackContext) -> dict[ObjectRef, Origin]:
    """Objects the forward created that survive the rollback, each once,
    with where it was (last) created."""
    left: dict[ObjectRef, Origin] = {}
    for ref, origin in ctx.created:
        if ctx.after_forward.exists(ref) and ctx.after_rollback.exists(ref):
            left.pop(ref, None)  # keep the last creation, in creation order
            left[ref] = origin
    return left


def _owner(ref: ObjectRef, catalog: Catalog) -> tuple[str, ...]:
    if ref.kind == "index":
        index = catalog.indexes.get(ref.relation())
        return index.table if index is not None else ()
    return ref.relation()

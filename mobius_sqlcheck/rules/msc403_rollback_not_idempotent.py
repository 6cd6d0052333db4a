"""DROP without IF EXISTS in a rollback.

## What it does
In rollback files, reports `DROP ...` without `IF EXISTS`, `ALTER TABLE ...
DROP COLUMN / DROP CONSTRAINT` without `IF EXISTS`, and an `ALTER TABLE`
that drops something but lacks `ALTER TABLE IF EXISTS`.

## Why is this bad?
A rollback runs when something already went wrong: the forward migration may
have been applied only in part (a no-transaction file stops half-way), or an
object was removed by hand. A rollback that fails on the first missing object
leaves the rest in place and the database stuck between versions, at the
worst moment.

## Example
```sql
-- 005_add_compressed_twin_rollback.sql
DROP INDEX public.idx_brands_compressed_twin;
ALTER TABLE public.brands DROP COLUMN compressed_twin;
```

## Use instead
```sql
DROP INDEX IF EXISTS public.idx_brands_compressed_twin;
ALTER TABLE IF EXISTS public.brands DROP COLUMN IF EXISTS compressed_twin;
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.rules._support import alter_table
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC403"
NAME = "rollback-not-idempotent"
SEVERITY = "warning"
CATALOG_FREE = True  # runs beside the replay on a long history
NODE_TYPES = ("DropStmt", "AlterTableStmt")
HINT = "Add IF EXISTS, so the rollback also completes when the object is already gone."
_OBJECT_WORDS = {"MATVIEW": "MATERIALIZED VIEW", "FOREIGN_TABLE": "FOREIGN TABLE"}
_DROP_SUBTYPES = {"AT_DropColumn": "DROP COLUMN", "AT_DropConstraint": "DROP CONSTRAINT"}


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    if not ctx.is_rollback:
        return
    if statement.node_type == "DropStmt":
        if not statement.node.get("missing_ok"):
            yield Finding(f"DROP {_object_word(statement.node)} without IF EXISTS in a rollback", statement.start)
        return
    drops = list(alter_table.commands(statement.node, *_DROP_SUBTYPES))
    for command in drops:
        if not command.get("missing_ok"):
            name = command.get("name", "")
            keyword = "DROP" if command["subtype"] == "AT_DropColumn" else "CONSTRAINT"
            start, end = alter_table.column_span(ctx.source, statement, name, keyword=keyword)
            yield Finding(f"{_DROP_SUBTYPES[command['subtype']]} {name} without IF EXISTS in a rollback", start, end)
    if drops and not statement.node.get("missing_ok"):
        table = nodes.display(nodes.relation_key(statement.node.get("relation", {})))
        yield Finding(f"ALTER TABLE {table} without IF EXISTS in a rollback: it fails if the table is gone",
                      statement.start)


def _object_word(node: dict) -> str:
    word = node.get("removeType", "OBJECT_").removeprefix("OBJECT_")
    return _OBJECT_WORDS.get(word, word.replace("_", " "))

"""ADD COLUMN ... NOT NULL without a DEFAULT on a table that may hold rows.

## What it does
Reports `ALTER TABLE ... ADD COLUMN` with `NOT NULL` (or `PRIMARY KEY`) and
no `DEFAULT` (or `DEFAULT NULL`) on an existing table: one created by an
earlier migration, or never created in this directory (a platform table). A
table created earlier in the same file is new and empty, so adding such a
column to it is fine. Identity and generated columns fill themselves and are
not reported here.

## Why is this bad?
Every existing row would get NULL in a NOT NULL column, so PostgreSQL fails
the migration as soon as the table has a row: it passes on an empty
development database and fails in production.

## Example
```sql
-- 006_brand_region.sql (brands was created by 001_initial_schema.sql)
ALTER TABLE public.brands ADD COLUMN region varchar(20) NOT NULL;
```

## Use instead
```sql
-- A constant default fills existing rows without rewriting the table (PostgreSQL 11+).
ALTER TABLE public.brands ADD COLUMN region varchar(20) NOT NULL DEFAULT 'eu';
-- Or add it nullable, backfill, then make it NOT NULL (see MSC303 for the safe way).
ALTER TABLE public.brands ADD COLUMN region varchar(20);
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.rules._support import alter_table
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC301"
NAME = "not-null-column-without-default"
SEVERITY = "error"
NODE_TYPES = ("AlterTableStmt",)
HINT = ("Give it a constant DEFAULT, or add it nullable, backfill it, and set NOT NULL in a later "
        "migration.")
_FILLS_ITSELF = ("CONSTR_IDENTITY", "CONSTR_GENERATED")
# serial types carry a nextval() default: every existing row gets a value (a rewrite: MSC302's business).
_SERIAL_TYPES = ("serial", "serial2", "serial4", "serial8", "smallserial", "bigserial")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    for key, column_def in alter_table.added_columns(statement, ctx):
        name = column_def.get("colname", "")
        if _not_null_without_default(column_def):
            yield Finding(f"column {name} is added NOT NULL without a DEFAULT to {nodes.display(key)}, "
                          "which may hold rows: every existing row would violate it",
                          statement.offset(column_def.get("location", -1)))


def _not_null_without_default(column_def: dict) -> bool:
    not_null = False
    type_node = column_def.get("typeName") or {}
    has_default = nodes.base_type(type_node) in _SERIAL_TYPES and len(nodes.names(type_node.get("names"))) == 1
    for item in column_def.get("constraints", ()):
        constraint = item.get("Constraint", {})
        contype = constraint.get("contype")
        if contype in ("CONSTR_NOTNULL", "CONSTR_PRIMARY"):
            not_null = True
        elif contype == "CONSTR_DEFAULT":
            has_default = nodes.const_value(constraint.get("raw_expr")) is not None  # DEFAULT NULL fills nothing
        elif contype in _FILLS_ITSELF:
            has_default = True
    return not_null and not has_default

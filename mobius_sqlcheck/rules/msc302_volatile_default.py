"""ADD COLUMN with a volatile DEFAULT on a table that may hold rows.

## What it does
Reports `ALTER TABLE ... ADD COLUMN` on an existing table when the new
column's value must be computed row by row: a `DEFAULT` that calls a volatile
function (`gen_random_uuid()`, `random()`, `clock_timestamp()`, `nextval()`,
any function not known to be stable), a `serial` type, an identity column or
a stored generated column. Volatility of built-in functions comes from
PostgreSQL 15's own `pg_proc`; a function created by the migrations has the
volatility its definition declares; any other function counts as volatile.
`now()` and `CURRENT_TIMESTAMP` are stable: evaluated once, fine.

## Why is this bad?
Since PostgreSQL 11 a constant or stable default is stored once in the
catalog and the ALTER is instant. A volatile default cannot be: PostgreSQL
rewrites the whole table under an ACCESS EXCLUSIVE lock, and every read and
write of `assets` waits until the rewrite is done. A `serial` column is a
`nextval()` default, and an identity column (ALWAYS or BY DEFAULT) numbers
the existing rows from its sequence too: both rewrite, as does a stored
generated column (measured on PostgreSQL 15 and 17: the table's
`relfilenode` changes, see `mobius-sqlcheck explain MSC302`). MSC311, the
other rewrites, leaves these to this rule.

## Example
```sql
ALTER TABLE public.assets ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
```

## Use instead
```sql
-- 006: add it without a default (instant), and default only new rows.
ALTER TABLE public.assets ADD COLUMN public_id uuid;
ALTER TABLE public.assets ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
-- Then backfill existing rows in batches outside the migration.
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.rules._support import alter_table, lock_rules
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC302"
NAME = "volatile-default"
SEVERITY = "warning"
NODE_TYPES = ("AlterTableStmt",)
LOCK_FORMS = lock_rules.ADD_COLUMN_REWRITES  # what `explain` shows
HINT = ("Add the column without a default (instant), then ALTER COLUMN ... SET DEFAULT for new rows and "
        "backfill existing rows in batches.")
_SERIAL_TYPES = ("serial", "serial2", "serial4", "serial8", "smallserial", "bigserial")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    for key, column_def in alter_table.added_columns(statement, ctx):
        problem = _rewrite_reason(column_def, ctx)
        if problem is not None:
            reason, location = problem
            yield Finding(f"column {column_def.get('colname', '')} is added to {nodes.display(key)} with {reason}: "
                          "PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock",
                          statement.offset(location))


def _rewrite_reason(column_def: dict, ctx: StatementContext) -> tuple[str, int] | None:
    """Why adding this column computes a value per row, and where, or None."""
    type_node = column_def.get("typeName") or {}
    if nodes.base_type(type_node) in _SERIAL_TYPES and len(nodes.names(type_node.get("names"))) == 1:
        return f"type {nodes.base_type(type_node)} (a nextval() default)", type_node.get("location", -1)
    for item in column_def.get("constraints", ()):
        constraint = item.get("Constraint", {})
        contype = constraint.get("contype")
        if contype == "CONSTR_IDENTITY":
            return "an identity (a nextval() per row)", constraint.get("location", -1)
        if contype == "CONSTR_GENERATED":
            return "a stored generated value", constraint.get("location", -1)
        if contype == "CONSTR_DEFAULT":
            from mobius_sqlcheck.rules._support.volatility import VOLATILE, expression_volatility  # loads pg_proc data lazily

            volatility = expression_volatility(constraint.get("raw_expr"), ctx.catalog)
            if volatility.level == VOLATILE:
                return f"a volatile DEFAULT ({volatility.culprit})", volatility.location
    return None

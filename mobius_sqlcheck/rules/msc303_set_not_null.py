"""ALTER COLUMN ... SET NOT NULL on a table that may hold rows.

## What it does
Reports `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` on an existing table
(created by an earlier migration, or a platform table), unless the column is
already NOT NULL or a validated `CHECK (column IS NOT NULL)` added by an
earlier migration already proves it: then PostgreSQL 12+ skips the scan.

## Why is this bad?
SET NOT NULL reads every row to prove there is no NULL, holding an ACCESS
EXCLUSIVE lock the whole time: on a large `assets` table, every query waits.
A CHECK constraint can be added `NOT VALID` (instant) and validated later
under a lock that lets reads and writes go on. Both steps must be in
different migrations: each migration runs in one transaction, so the ADD's
ACCESS EXCLUSIVE lock would otherwise be held through the validation scan.

## Example
```sql
ALTER TABLE public.assets ALTER COLUMN compliance_score SET NOT NULL;
```

## Use instead
```sql
-- 006_assets_score_check.sql
ALTER TABLE public.assets ADD CONSTRAINT assets_compliance_score_not_null
    CHECK (compliance_score IS NOT NULL) NOT VALID;
-- 007_assets_score_not_null.sql
ALTER TABLE public.assets VALIDATE CONSTRAINT assets_compliance_score_not_null;
ALTER TABLE public.assets ALTER COLUMN compliance_score SET NOT NULL;  -- no scan
ALTER TABLE public.assets DROP CONSTRAINT assets_compliance_score_not_null;
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.rules._support import alter_table
from mobius_sqlcheck.catalog import Check, Table
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC303"
NAME = "set-not-null"
SEVERITY = "warning"
NODE_TYPES = ("AlterTableStmt",)
_SET_NOT_NULL = (("SET", "NOT", "NULL_P"),)
HINT = ("Safe sequence: in one migration ADD CONSTRAINT <name> CHECK (<column> IS NOT NULL) NOT VALID; "
        "in the next, VALIDATE CONSTRAINT <name> (scans without blocking writes), then SET NOT NULL "
        "(uses the check, no scan), then DROP CONSTRAINT <name>.")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    key = alter_table.existing_table(statement, ctx)
    if key is None:
        return
    table = ctx.catalog.table(key)
    for command in alter_table.commands(statement.node, "AT_SetNotNull"):
        name = command.get("name", "")
        column = table.columns.get(name) if table is not None else None
        if column is not None and column.not_null:
            continue  # already NOT NULL: nothing to scan
        proof = _not_null_proof(table, name)
        if proof is not None and proof.origin is not None and proof.origin.path != ctx.source.path:
            continue  # a validated check from an earlier migration: no scan
        start, end = alter_table.column_span(ctx.source, statement, name, followed_by=_SET_NOT_NULL)
        yield Finding(_message(name, key, proof), start, end)


def _not_null_proof(table: Table | None, column: str) -> Check | None:
    """A validated CHECK that proves the column NOT NULL."""
    if table is None:
        return None
    for check in table.checks.values():
        if check.validated and column in check.not_null_columns:
            return check
    return None


def _message(column: str, key: tuple[str, str], proof: Check | None) -> str:
    if proof is None:
        return f"SET NOT NULL on {column} scans all of {nodes.display(key)} under an ACCESS EXCLUSIVE lock"
    # The validated check lets SET NOT NULL skip its scan; the scan happened anyway, earlier.
    return (f"SET NOT NULL on {column} skips its scan thanks to check {proof.name}, but that check was added in "
            f"this same migration: validating it scanned all of {nodes.display(key)} while the ACCESS EXCLUSIVE "
            "lock of its ADD CONSTRAINT was held (until the migration commits)")

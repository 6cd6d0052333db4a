"""A named constraint not named by the naming pattern (off by default).

## What it does
Checks explicitly named constraints (`CONSTRAINT name ...` in CREATE TABLE
and ALTER TABLE ... ADD CONSTRAINT) against `constraint_name_pattern`
(default `^{table}(_[a-z0-9_]+)?_(pkey|fkey|key|check|excl)$`, PostgreSQL's own
convention for generated names). Unnamed constraints get such a name from
PostgreSQL and are not reported. Enable it with `select` or `severity`.

## Why is this bad?
A rollback or a later migration must drop a constraint by name; names in
PostgreSQL's own style can be guessed from the table and the kind.

## Example
```sql
ALTER TABLE feedback ADD CONSTRAINT valid_action CHECK (action IN ('approve', 'reject'));
```

## Use instead
```sql
ALTER TABLE feedback ADD CONSTRAINT feedback_action_check CHECK (action IN ('approve', 'reject'));
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC205"
NAME = "constraint-name"
SEVERITY = "off"
CATALOG_FREE = True  # runs beside the replay on a long history
NODE_TYPES = ("CreateStmt", "AlterTableStmt")
OPTIONS = {"constraint_name_pattern": r"^{table}(_[a-z0-9_]+)?_(pkey|fkey|key|check|excl)$"}


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    relation = statement.node.get("relation")
    if relation is None:
        return
    _, table = nodes.relation_key(relation)
    pattern = ctx.config.name_pattern("constraint_name_pattern")
    for kind, constraint in nodes.walk(statement.node):
        if kind != "Constraint" or "conname" not in constraint:
            continue
        if not pattern.matches(constraint["conname"], table):
            at = statement.offset(nodes.location(constraint, -1))
            yield Finding(f"constraint '{constraint['conname']}' does not match {pattern.for_table(table)}", at)

"""An index not named by the naming pattern.

## What it does
Checks the name of every `CREATE INDEX` against `index_name_pattern`
(default `^(idx_{table}_[a-z0-9_]+|{table}_[a-z0-9_]+_(idx|key))$`, where
`{table}` is the indexed table's name: `idx_<table>_...`, or PostgreSQL's
own `<table>_<columns>_idx` / `_key`), and reports an index created without
a name.

## Why is this bad?
Index names are how a rollback drops an index, how `verify` finds it and how
people read `EXPLAIN` output. A predictable name tells them the table at a
glance; an unnamed index gets a generated name nobody can drop reliably.

## Example
```sql
CREATE INDEX brands_org ON brands (organization_id);
CREATE INDEX ON jobs (status);
```

## Use instead
```sql
CREATE INDEX idx_brands_org ON brands (organization_id) WHERE deleted_at IS NULL;
CREATE INDEX idx_jobs_status ON jobs (status);
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.rules._support.locate import name_span
from mobius_sqlcheck.parse import Statement

CODE = "MSC201"
NAME = "index-name"
SEVERITY = "warning"
CATALOG_FREE = True  # runs beside the replay on a long history
NODE_TYPES = ("IndexStmt",)
OPTIONS = {"index_name_pattern": r"^(idx_{table}_[a-z0-9_]+|{table}_[a-z0-9_]+_(idx|key))$"}


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    _, table = nodes.relation_key(statement.node["relation"])
    name = statement.node.get("idxname")
    pattern = ctx.config.name_pattern("index_name_pattern")
    if not name:
        yield Finding(f"index on {table} has no name", statement.start, statement.end,
                      hint=f"Name it to match {pattern.for_table(table)}.")
        return
    if not pattern.matches(name, table):
        start, end = name_span(ctx.source, statement, name)
        yield Finding(f"index '{name}' does not match {pattern.for_table(table)}", start, end,
                      hint=_rename_hint(ctx, table))


def _rename_hint(ctx: StatementContext, table: str) -> str:
    # The example fits the default pattern only; a custom one is quoted instead.
    if ctx.config.is_default("index_name_pattern"):
        return f"Rename it, e.g. idx_{table}_<columns>."
    return f"Rename it to match {ctx.config.name_pattern('index_name_pattern').for_table(table)}."

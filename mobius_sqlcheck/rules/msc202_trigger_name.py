"""A trigger not named by the naming pattern.

## What it does
Checks the name of every `CREATE TRIGGER` against `trigger_name_pattern`
(default `^{table}_[a-z0-9_]+_trigger$`: the table, the trigger's purpose,
then `_trigger`).

A trigger on a Supabase platform table (`auth.*`, `storage.*`) is not
checked: it is wired into Supabase's schema, named as its docs show.

## Why is this bad?
Trigger names are scoped to their table, so the same name on two tables is
legal and confusing; a name that carries the table and the purpose reads well
in `information_schema.triggers` and in error messages raised from triggers.

## Example
```sql
CREATE TRIGGER learning AFTER INSERT ON feedback
    FOR EACH ROW EXECUTE FUNCTION update_learning_active();
```

## Use instead
```sql
CREATE TRIGGER feedback_learning_trigger AFTER INSERT ON feedback
    FOR EACH ROW EXECUTE FUNCTION update_learning_active();
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.rules._support.locate import name_span
from mobius_sqlcheck.parse import Statement
from mobius_sqlcheck.supabase_project import is_platform_schema

CODE = "MSC202"
NAME = "trigger-name"
SEVERITY = "warning"
CATALOG_FREE = True  # runs beside the replay on a long history
NODE_TYPES = ("CreateTrigStmt",)
OPTIONS = {"trigger_name_pattern": r"^{table}_[a-z0-9_]+_trigger$"}


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    schema, table = nodes.relation_key(statement.node["relation"])
    if is_platform_schema(schema):  # a trigger on auth.users is wired into Supabase's tables, not named by us
        return
    name = statement.node.get("trigname", "")
    pattern = ctx.config.name_pattern("trigger_name_pattern")
    if not pattern.matches(name, table):
        start, end = name_span(ctx.source, statement, name)
        yield Finding(f"trigger '{name}' does not match {pattern.for_table(table)}", start, end,
                      hint=_rename_hint(ctx, table))


def _rename_hint(ctx: StatementContext, table: str) -> str:
    # The example fits the default pattern only; a custom one is quoted instead.
    if ctx.config.is_default("trigger_name_pattern"):
        return f"Rename it, e.g. {table}_<purpose>_trigger."
    return f"Rename it to match {ctx.config.name_pattern('trigger_name_pattern').for_table(table)}."

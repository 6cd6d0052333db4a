"""A rollback drops an object that something it drops later still depends on.

## What it does
In rollback files, for each `DROP` without `CASCADE`, looks in the catalog
(the schema as the forward migration left it, replayed up to this statement)
for what still depends on the dropped object:

- a table another table still references by a foreign key (dropping `brands`
  while `assets` references it);
- a function a trigger still calls.

The finding says whether a later statement of the rollback drops the
dependant (the order is wrong) or nothing does (the rollback cannot work as
written). Objects dropped in the same statement do not count.

## Why is this bad?
Without CASCADE, PostgreSQL refuses to drop an object others depend on:
`cannot drop table brands because other objects depend on it`. The rollback
fails at the first such statement, when it is needed most.

## Example
```sql
-- 001_initial_schema_rollback.sql
DROP TABLE IF EXISTS public.brands;
DROP TABLE IF EXISTS public.assets;
```

## Use instead
```sql
DROP TABLE IF EXISTS public.assets;  -- references brands: goes first
DROP TABLE IF EXISTS public.brands;
```
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.catalog import object_with_args
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC404"
NAME = "rollback-order"
SEVERITY = "warning"
NODE_TYPES = ("DropStmt",)
HINT = "Drop dependants first: the reverse of the order the forward migration created them in."
_FUNCTION_TYPES = ("OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    node = statement.node
    if not ctx.is_rollback or node.get("behavior") == "DROP_CASCADE":
        return
    remove_type = node.get("removeType")
    if remove_type == "OBJECT_TABLE":
        yield from _referenced_tables(statement, ctx)
    elif remove_type in _FUNCTION_TYPES:
        yield from _called_functions(statement, ctx)


def _referenced_tables(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    dropped = _dropped_names(statement.node)
    for key in dropped:
        table = ctx.catalog.table(key)
        if table is None:
            continue
        for referrer_key in sorted(ctx.catalog.referrers_of(key) - set(dropped)):
            referrer = ctx.catalog.table(referrer_key)
            if referrer is None:
                continue
            fk = next((fk.name for fk in referrer.foreign_keys if fk.target == key), "?")
            later = _later_drop(statement, ctx, partial(_drops_table, key=referrer_key))
            yield Finding(_message(f"table {nodes.display(key)}", f"table {nodes.display(referrer_key)}",
                                   f"references it (foreign key {fk})", later, ctx), statement.start)


def _called_functions(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    for item in statement.node.get("objects", ()):
        function = ctx.catalog.resolve_function(*object_with_args(item.get("ObjectWithArgs", {})))
        if function is None:
            continue
        key = (function.schema, function.name)
        for trigger_key in sorted(ctx.catalog.triggers_calling(function)):
            later = _later_drop(statement, ctx, partial(_drops_trigger, key=trigger_key))
            schema, table, name = trigger_key
            yield Finding(_message(f"function {nodes.display(key)}", f"trigger {name} on {schema}.{table}",
                                   "calls it", later, ctx), statement.start)


def _message(dropped: str, dependant: str, relation: str, later: Statement | None, ctx: StatementContext) -> str:
    if later is not None:
        line = ctx.source.position(later.start).line
        return f"drops {dropped} while {dependant} still {relation}; {dependant} is dropped later (line {line})"
    return f"drops {dropped} while {dependant} still {relation}, and this rollback never drops it: the DROP fails"


def _dropped_names(node: dict) -> list[tuple[str, str]]:
    keys = []
    for item in node.get("objects", ()):
        if "List" in item:
            keys.append(nodes.qualified(nodes.names(item["List"].get("items"))))
        elif "ObjectWithArgs" in item:
            keys.append(nodes.qualified(nodes.names(item["ObjectWithArgs"].get("objname"))))
    return keys


def _later_drop(statement: Statement, ctx: StatementContext,
                drops: Callable[[Statement], bool]) -> Statement | None:
    for other in ctx.statements[statement.index + 1:]:
        if other.node_type == "DropStmt" and drops(other):
            return other
    return None


def _drops_table(statement: Statement, key: tuple[str, str]) -> bool:
    return statement.node.get("removeType") == "OBJECT_TABLE" and key in _dropped_names(statement.node)


def _drops_trigger(statement: Statement, key: tuple[str, str, str]) -> bool:
    """DROP TRIGGER of it, or DROP TABLE of its table (which takes it)."""
    remove_type = statement.node.get("removeType")
    if remove_type == "OBJECT_TABLE":
        return key[:2] in _dropped_names(statement.node)
    if remove_type != "OBJECT_TRIGGER":
        return False
    for item in statement.node.get("objects", ()):
        parts = nodes.names(item.get("List", {}).get("items"))
        if parts and (*nodes.qualified(parts[:-1]), parts[-1]) == key:
            return True
    return False

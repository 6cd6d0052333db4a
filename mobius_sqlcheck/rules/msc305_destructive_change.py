"""DROP or RENAME of an existing table or column in a forward migration.

## What it does
Reports, in forward migrations only, `DROP TABLE`, `DROP SCHEMA ... CASCADE`
of a schema holding tables, `ALTER TABLE ... DROP COLUMN`, `ALTER TABLE ... RENAME TO` and `ALTER TABLE ... RENAME COLUMN` on a
table created by an earlier migration or never created here (a platform
table). Rollback files exist to remove things, so they are not checked; a
table created earlier in the same file may be changed freely. `DROP TABLE IF
EXISTS` of a table this history never created is reported too: where the
table exists (a platform table, or one from before the history) its rows
are lost all the same.

## Why is this bad?
A drop loses data that no rollback can bring back. A rename breaks every
running instance of the backend that still uses the old name, from the
moment the migration commits until the new code is deployed.

## Example
```sql
-- 006_cleanup.sql
ALTER TABLE public.jobs DROP COLUMN webhook_attempts;
ALTER TABLE public.templates RENAME COLUMN thumbnail_url TO preview_url;
```

## Use instead
```sql
-- Expand, then contract: add the new column and write both (006), move the
-- readers (deploy), then drop the old one in a later migration, with the
-- reason in a suppression comment.
-- mobius-sqlcheck: ignore MSC305 unused since backend 2.4, data exported
ALTER TABLE public.jobs DROP COLUMN webhook_attempts;
```
"""

from __future__ import annotations

import os
from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.rules._support import alter_table
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC305"
NAME = "destructive-change"
SEVERITY = "warning"
NODE_TYPES = ("DropStmt", "AlterTableStmt", "RenameStmt")
HINT = ("Expand then contract: stop using it in the code first, then drop or rename it in a later "
        "migration; suppress with the reason once that is done.")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    if ctx.is_rollback:
        return
    if statement.node_type == "DropStmt":
        yield from _dropped_tables(statement, ctx)
    elif statement.node_type == "AlterTableStmt":
        yield from _dropped_columns(statement, ctx)
    else:
        yield from _renames(statement, ctx)


def _dropped_tables(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    node = statement.node
    if node.get("removeType") == "OBJECT_SCHEMA":
        yield from _dropped_schemas(statement, ctx)
        return
    if node.get("removeType") != "OBJECT_TABLE":
        return
    for item in node.get("objects", ()):
        key = nodes.qualified(nodes.names(item.get("List", {}).get("items")))
        # IF EXISTS of a table the history never created still drops it where it exists (a
        # platform table, or one from before the history): its rows are lost all the same.
        if alter_table.is_existing(key, ctx):
            yield Finding(f"drops table {nodes.display(key)}{_created_by(key, ctx)}: its rows are lost",
                          statement.start)


def _dropped_schemas(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    """DROP SCHEMA ... CASCADE takes the schema's tables with it."""
    if statement.node.get("behavior") != "DROP_CASCADE":
        return  # without CASCADE, PostgreSQL refuses to drop a schema that holds anything
    for item in statement.node.get("objects", ()):
        schema = item.get("String", {}).get("sval", "")
        tables = sorted(key for key, table in ctx.catalog.tables.items()
                        if key[0] == schema and not table.external and alter_table.is_existing(key, ctx))
        if tables:
            shown = ", ".join(nodes.display(key) for key in tables[:3]) + (" ..." if len(tables) > 3 else "")
            yield Finding(f"drops schema {schema} with CASCADE, and with it {len(tables)} table(s) created by "
                          f"earlier migrations ({shown}): their rows are lost", statement.start)


def _dropped_columns(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    key = alter_table.existing_table(statement, ctx)
    if key is None:
        return
    table = ctx.catalog.table(key)
    if table is None and statement.node.get("missing_ok"):
        return  # ALTER TABLE IF EXISTS of a table this history never saw
    for command in alter_table.commands(statement.node, "AT_DropColumn"):
        name = command.get("name", "")
        if table is not None and not table.external and name not in table.columns:
            continue  # IF EXISTS of a column that is not there
        start, end = alter_table.column_span(ctx.source, statement, name, keyword="DROP")
        yield Finding(f"drops column {name} of {nodes.display(key)}{_created_by(key, ctx)}: its values are lost",
                      start, end)


def _renames(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    node = statement.node
    rename_type = node.get("renameType")
    if rename_type not in ("OBJECT_TABLE", "OBJECT_COLUMN") or "relation" not in node:
        return
    key = nodes.relation_key(node["relation"])
    if not alter_table.is_existing(key, ctx):
        return
    new_name = node.get("newname", "")
    if rename_type == "OBJECT_TABLE":
        yield Finding(f"renames table {nodes.display(key)} to {new_name}: code using the old name breaks",
                      statement.offset(node["relation"].get("location", -1)))
        return
    old_name = node.get("subname", "")
    start, end = alter_table.column_span(ctx.source, statement, old_name, keyword="RENAME")
    yield Finding(f"renames column {old_name} of {nodes.display(key)} to {new_name}: code using the old "
                  "name breaks", start, end)


def _created_by(key: tuple[str, str], ctx: StatementContext) -> str:
    table = ctx.catalog.table(key)
    if table is None:
        return " (not created by these migrations: a platform or pre-history table where it exists)"
    if table.origin is None:
        return ""
    return f" (created by {os.path.basename(table.origin.path)})"

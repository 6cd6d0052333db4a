"""DROP INDEX without CONCURRENTLY of an index on a table that may hold rows.

## What it does
Reports `DROP INDEX` without `CONCURRENTLY` when the index belongs to an
existing table (created by an earlier migration, or a platform table). An
index of a table created earlier in the same file is fine, and so is one
whose table the same file drops later (a rollback's usual order: the DROP
TABLE takes the same lock anyway).

## Why is this bad?
A plain DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table, not
only on the index: while it waits for a long-running query to finish, every
later read and write of `assets` queues behind it. DROP INDEX CONCURRENTLY
takes SHARE UPDATE EXCLUSIVE on the table instead and waits for running
queries without blocking new ones.

## Example
```sql
DROP INDEX public.idx_assets_status;
```

## Use instead
```sql
-- mobius-sqlcheck: no-transaction
DROP INDEX CONCURRENTLY IF EXISTS public.idx_assets_status;
```
CONCURRENTLY cannot run in a transaction block (and drops one index at a
time, without CASCADE), so it goes in a no-transaction file of its own.
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.rules._support import lock_rules
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC307"
NAME = "drop-index-without-concurrently"
SEVERITY = "warning"
NODE_TYPES = ("DropStmt",)
LOCK_FORMS = ("DROP INDEX", "DROP INDEX CONCURRENTLY")
HINT = ("DROP INDEX CONCURRENTLY IF EXISTS in a migration of its own that starts with "
        "`-- mobius-sqlcheck: no-transaction`.")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    if statement.node.get("removeType") != "OBJECT_INDEX" or statement.node.get("concurrent"):
        return
    mode = lock_rules.mode_of("DROP INDEX", ctx)
    if mode is None:
        return
    for item in statement.node.get("objects", ()):
        parts = nodes.names(item.get("List", {}).get("items"))
        index = ctx.catalog.indexes.get(nodes.qualified(parts)) if parts else None
        if index is None or not lock_rules.is_existing(index.table, ctx):
            continue  # an index this history never created: its table is unknown
        if _table_dropped_later(statement, ctx, index.table):
            continue  # the DROP TABLE takes the same lock anyway (a rollback's usual order)
        name = nodes.display(nodes.qualified(parts))
        yield Finding(f"DROP INDEX {name}: {lock_rules.lock_phrase(mode, [index.table])}",
                      statement.start, hint=f"DROP INDEX CONCURRENTLY IF EXISTS {name}; in a migration of its own "
                                            "that starts with `-- mobius-sqlcheck: no-transaction`.")



def _table_dropped_later(statement: Statement, ctx: StatementContext, table: tuple[str, str]) -> bool:
    for later in ctx.statements[statement.index + 1:]:
        node = later.node
        if later.node_type != "DropStmt" or node.get("removeType") != "OBJECT_TABLE":
            continue
        for item in node.get("objects", ()):
            if nodes.qualified(nodes.names(item.get("List", {}).get("items"))) == table:
                return True
    return False

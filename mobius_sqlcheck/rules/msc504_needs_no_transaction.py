"""A statement that cannot run in a transaction block, in a file without the no-transaction directive.

## What it does
Reports statements PostgreSQL 15 refuses inside a transaction block: `CREATE
INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY`,
`REINDEX SCHEMA / DATABASE / SYSTEM`, `VACUUM`, `CLUSTER` without a table, `ALTER
TABLE ... DETACH PARTITION ... CONCURRENTLY`, `CREATE / DROP DATABASE`,
`ALTER DATABASE ... SET TABLESPACE`, `CREATE / DROP TABLESPACE`, `ALTER
SYSTEM`, `DISCARD ALL`, `CREATE SUBSCRIPTION` that creates a slot, in a file
without the `-- mobius-sqlcheck: no-transaction` directive (the applier runs
every other file in one transaction). The list was checked statement by
statement inside `BEGIN` on PostgreSQL 15.

A file with the directive runs statement by statement in autocommit mode,
and a failed run is retried from the top. So there every statement must be
one of the above (anything else belongs in a normal, atomic migration), and
each must be safe to run twice: `IF NOT EXISTS` on `CREATE INDEX
CONCURRENTLY` (or a `DROP INDEX CONCURRENTLY IF EXISTS` of the same index
before it), `IF EXISTS` on the drops; `CREATE DATABASE` and `CREATE
TABLESPACE` can never be re-run.

`ALTER TYPE ... ADD VALUE` runs in a transaction since PostgreSQL 12, so it is
not reported; but the new value cannot be used before that transaction
commits (`unsafe use of new value`, even for a type created in the same
transaction), so a later use of it in the same file is reported.

## Why is this bad?
PostgreSQL rejects the statement (`CREATE INDEX CONCURRENTLY cannot run
inside a transaction block`) and the whole migration fails on deploy. In a
no-transaction file, a non-idempotent statement turns a retry after a
network error into a second failure, and an ordinary statement loses the
all-or-nothing guarantee.

## Example
```sql
-- 006_assets_status_index.sql
CREATE INDEX CONCURRENTLY idx_assets_status ON public.assets (status);
```

## Use instead
```sql
-- 006_assets_status_index.sql
-- mobius-sqlcheck: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_assets_status ON public.assets (status);
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC504"
NAME = "needs-no-transaction"
SEVERITY = "error"
NODE_TYPES = ("*",)
HINT = ("Put such statements in their own migration file whose first line is "
        "-- mobius-sqlcheck: no-transaction, each one idempotent (IF [NOT] EXISTS).")
DIRECTIVE = "-- mobius-sqlcheck: no-transaction"


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    if statement.node_type == "TransactionStmt":
        return  # MSC503's business
    what = non_transactional(statement.node_type, statement.node)
    if not ctx.no_transaction:
        if what is not None:
            yield Finding(f"{what} cannot run inside a transaction block, and the applier runs this file in one",
                          statement.start, hint=f"Move it to its own migration file marked {DIRECTIVE}, with "
                                                "IF [NOT] EXISTS so that a retry can re-run it.")
        elif statement.node_type == "AlterEnumStmt":
            yield from _new_enum_value_used(statement, ctx)
        return
    if what is None:
        yield Finding(f"{_statement_words(statement, ctx)} in a no-transaction file: each statement commits on "
                      "its own, so a failure leaves the file half applied", statement.start,
                      hint="Move it to a normal migration; keep only statements that cannot run in a "
                           "transaction here.")
        return
    problem = _not_idempotent(statement, ctx)
    if problem is not None:
        yield Finding(f"{what} {problem}: a failed run is retried from the top of this no-transaction file",
                      statement.start)


def non_transactional(node_type: str, node: dict) -> str | None:
    """What the statement is, if PostgreSQL refuses it in a transaction block."""
    if node_type == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if node_type == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY"
    if node_type == "ReindexStmt":
        return _reindex(node)
    if node_type == "VacuumStmt":
        return "VACUUM" if node.get("is_vacuumcmd") else None  # ANALYZE alone is fine
    if node_type == "ClusterStmt":
        return None if node.get("relation") else "CLUSTER of every table"
    if node_type == "AlterTableStmt":
        return _detach_concurrently(node)
    if node_type == "AlterDatabaseStmt":
        tablespace = any(e.get("defname") == "tablespace" for e in nodes.def_elems(node.get("options")))
        return "ALTER DATABASE ... SET TABLESPACE" if tablespace else None
    if node_type == "DiscardStmt":
        return "DISCARD ALL" if node.get("target") == "DISCARD_ALL" else None
    if node_type == "CreateSubscriptionStmt":
        return "CREATE SUBSCRIPTION" if _creates_slot(node) else None
    return _ALWAYS.get(node_type)


_ALWAYS = {
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "AlterSystemStmt": "ALTER SYSTEM",
}


def _reindex(node: dict) -> str | None:
    if any(e.get("defname") == "concurrently" for e in nodes.def_elems(node.get("params"))):
        return "REINDEX CONCURRENTLY"
    kind = node.get("kind", "")
    if kind in ("REINDEX_OBJECT_SCHEMA", "REINDEX_OBJECT_DATABASE", "REINDEX_OBJECT_SYSTEM"):
        return f"REINDEX {kind.removeprefix('REINDEX_OBJECT_')}"
    return None


def _detach_concurrently(node: dict) -> str | None:
    for item in node.get("cmds", ()):
        command = item.get("AlterTableCmd", {})
        if command.get("subtype") == "AT_DetachPartition" and command.get("def", {}).get(
                "PartitionCmd", {}).get("concurrent"):
            return "DETACH PARTITION ... CONCURRENTLY"
    return None


def _creates_slot(node: dict) -> bool:
    for element in nodes.def_elems(node.get("options")):
        if element.get("defname") in ("create_slot", "connect"):
            value = nodes.const_value(element.get("arg"))
            if value is False or (isinstance(value, str) and value.lower() in ("false", "off", "0")):
                return False
    return True


# -- in a no-transaction file ------------------------------------------------------


def _not_idempotent(statement: Statement, ctx: StatementContext) -> str | None:
    """Why running this statement a second time fails, or None."""
    node_type, node = statement.node_type, statement.node
    if node_type == "IndexStmt":
        if not node.get("idxname"):
            return "without a name (each run creates another index)"
        if node.get("if_not_exists") or _dropped_before(statement, ctx, node["idxname"]):
            return None
        return "without IF NOT EXISTS"
    if node_type in ("DropStmt", "DropdbStmt", "DropTableSpaceStmt"):
        return None if node.get("missing_ok") else "without IF EXISTS"
    if node_type in ("CreatedbStmt", "CreateTableSpaceStmt", "CreateSubscriptionStmt"):
        return "has no IF NOT EXISTS, so it fails when re-run"
    if node_type == "AlterTableStmt":
        return "fails when re-run (the partition is already detached)"
    return None


def _dropped_before(statement: Statement, ctx: StatementContext, index_name: str) -> bool:
    """An earlier DROP INDEX CONCURRENTLY IF EXISTS of the same index makes
    the CREATE safe to re-run."""
    for other in ctx.statements[:statement.index]:
        if other.node_type == "DropStmt" and other.node.get("missing_ok") \
                and other.node.get("removeType") == "OBJECT_INDEX":
            for item in other.node.get("objects", ()):
                if nodes.names(item.get("List", {}).get("items"))[-1:] == [index_name]:
                    return True
    return False


def _statement_words(statement: Statement, ctx: StatementContext) -> str:
    """The statement's first two words, e.g. `CREATE TABLE`."""
    head = ctx.source.data[statement.start:statement.start + 60].decode("utf-8", "replace")
    return " ".join(head.split()[:2]).upper().rstrip(";")


# -- ALTER TYPE ... ADD VALUE ---------------------------------------------------------


def _new_enum_value_used(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    value = statement.node.get("newVal")
    if not value:
        return  # RENAME VALUE
    key = nodes.qualified(nodes.names(statement.node.get("typeName")))
    literal = ("'" + value.replace("'", "''") + "'").encode("utf-8")
    for later in ctx.statements[statement.index + 1:]:
        if literal in ctx.source.data[later.start:later.end]:
            line = ctx.source.position(later.start).line
            yield Finding(f"enum value {literal.decode()} added to {nodes.display(key)} is used later in this file "
                          f"(line {line}), before the transaction that adds it commits: PostgreSQL refuses that",
                          statement.start, hint="Use the new value in a later migration.")
            return

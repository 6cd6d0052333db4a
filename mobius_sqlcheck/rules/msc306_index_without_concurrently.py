"""CREATE INDEX or REINDEX without CONCURRENTLY on a table that may hold rows.

## What it does
Reports `CREATE [UNIQUE] INDEX` and `REINDEX INDEX | TABLE` without
`CONCURRENTLY` on an existing table (created by an earlier migration, or a
platform table). An index on a table created earlier in the same file is
fine: the table is still empty.

## Why is this bad?
A plain CREATE INDEX holds a SHARE lock on the table for the whole build,
and the migration's transaction keeps it until COMMIT: every INSERT, UPDATE
and DELETE on `brands` waits, for as long as reading the whole table takes.
REINDEX takes the same SHARE lock on the table (measured: not ACCESS
EXCLUSIVE on the table, but on the index, so reads that would use it wait
too). CONCURRENTLY builds the index under SHARE UPDATE EXCLUSIVE, which lets
reads and writes go on.

## Example
```sql
-- 007_brands_name_index.sql
CREATE INDEX idx_brands_name ON public.brands (name);
```

## Use instead
```sql
-- 007_brands_name_index.sql
-- mobius-sqlcheck: no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_brands_name ON public.brands (name);
```
CONCURRENTLY cannot run in a transaction block, so the file carries the
no-transaction directive and holds nothing else (a failed concurrent build
leaves an INVALID index: `IF NOT EXISTS` does not repair it, drop it and run
again).
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import locks, nodes
from mobius_sqlcheck.rules._support import lock_rules
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC306"
NAME = "index-without-concurrently"
SEVERITY = "warning"
NODE_TYPES = ("IndexStmt", "ReindexStmt")
LOCK_FORMS = ("CREATE INDEX", "CREATE INDEX CONCURRENTLY", "REINDEX INDEX", "REINDEX TABLE",
              "REINDEX INDEX CONCURRENTLY", "REINDEX TABLE CONCURRENTLY")
HINT = ("Build it with CONCURRENTLY in a migration of its own that starts with "
        "`-- mobius-sqlcheck: no-transaction` (CONCURRENTLY cannot run in a transaction block).")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    for use in locks.classify(statement, ctx.catalog):
        if use.form not in ("CREATE INDEX", "REINDEX INDEX", "REINDEX TABLE"):
            continue
        mode = lock_rules.mode_of(use.form, ctx)
        for key in use.roles.get("table", []):
            if mode is None or not lock_rules.is_existing(key, ctx):
                continue
            what = "builds the index" if use.form == "CREATE INDEX" else "rebuilds"
            yield Finding(f"{use.form} {what} under its lock: {lock_rules.lock_phrase(mode, [key])}",
                          statement.start, hint=_hint(statement, key))


def _hint(statement: Statement, key: tuple[str, str]) -> str:
    if statement.node_type == "IndexStmt":
        name = statement.node.get("idxname", "<name>")
        unique = "UNIQUE " if statement.node.get("unique") else ""
        return (f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {name} ON {nodes.display(key)} (...) in a "
                "migration of its own that starts with `-- mobius-sqlcheck: no-transaction`.")
    return ("REINDEX ... CONCURRENTLY in a migration of its own that starts with "
            "`-- mobius-sqlcheck: no-transaction`.")

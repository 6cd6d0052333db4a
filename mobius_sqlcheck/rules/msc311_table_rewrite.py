"""A statement that rewrites a table or materialized view that may hold rows.

## What it does
Reports a statement that copies every row of an existing table or
materialized view into a new file under ACCESS EXCLUSIVE, by the measured
lock model (`pg_class.relfilenode` changes): SET LOGGED / SET UNLOGGED,
SET TABLESPACE, SET ACCESS METHOD, VACUUM FULL, CLUSTER, REFRESH
MATERIALIZED VIEW without CONCURRENTLY. The rewrites other rules already
name are left to them: an added volatile default, serial, identity or
stored generated column (MSC302) and a column type change (MSC304).
A table created earlier in the same file is fine.

## Why is this bad?
A rewrite's time grows with the table, and nothing can read or write it
meanwhile: on `assets` with millions of rows that is minutes of downtime.
It also needs disk space for a second copy of the table and its indexes.

## Example
```sql
REFRESH MATERIALIZED VIEW public.brand_stats;
```

## Use instead
```sql
-- needs a UNIQUE index on the view; reads go on, only writers of the view wait
REFRESH MATERIALIZED VIEW CONCURRENTLY public.brand_stats;
```
For VACUUM FULL or CLUSTER, `pg_repack` rebuilds a table without the long
lock; SET LOGGED / UNLOGGED and SET TABLESPACE have no online form: run
them in a maintenance window.
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import locks, nodes
from mobius_sqlcheck.rules._support import lock_rules
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC311"
NAME = "table-rewrite"
SEVERITY = "warning"
NODE_TYPES = ("AlterTableStmt", "VacuumStmt", "ClusterStmt", "RefreshMatViewStmt")
LOCK_FORMS = ("ALTER TABLE SET LOGGED", "ALTER TABLE SET UNLOGGED", "ALTER TABLE SET TABLESPACE",
              "ALTER TABLE SET ACCESS METHOD", "VACUUM FULL", "CLUSTER", "REFRESH MATERIALIZED VIEW",
              "REFRESH MATERIALIZED VIEW CONCURRENTLY")
HINT = "Run it in a maintenance window, or use the online form (REFRESH ... CONCURRENTLY, pg_repack)."
# Rewrites that other rules report, with their own advice: MSC302 and MSC304.
_REPORTED_ELSEWHERE = (*lock_rules.ADD_COLUMN_REWRITES, "ALTER TABLE ALTER COLUMN TYPE (rewrite)")
_HINTS = {
    "REFRESH MATERIALIZED VIEW": "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a UNIQUE index on the view) "
                                 "lets reads go on.",
    "VACUUM FULL": "pg_repack rebuilds the table online; a plain VACUUM (in a no-transaction file) "
                   "reclaims space for reuse without the lock.",
    "CLUSTER": "pg_repack --order-by rebuilds the table in order, online.",
}


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    for use in locks.classify(statement, ctx.catalog):
        if use.form in _REPORTED_ELSEWHERE or not lock_rules.rewrites(use.form, ctx):
            continue
        mode = lock_rules.mode_of(use.form, ctx)
        for key in use.roles.get("table", []):
            if mode is None or not lock_rules.is_existing(key, ctx):
                continue
            yield Finding(f"{use.form} rewrites all of {nodes.display(key)}: "
                          f"{lock_rules.lock_phrase(mode, [key])}", statement.start, hint=_HINTS.get(use.form))

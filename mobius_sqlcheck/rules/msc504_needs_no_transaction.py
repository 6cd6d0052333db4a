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
statement inside `BEGIN` on PostgreSQL 15. In another tool's layout the hint
says that tool's way (dbmate's `transaction:false`, diesel's `metadata.toml`,
Flyway's `.sql.conf`, a lone statement for golang-migrate and the Supabase CLI).

A file with the directive runs statement by statement in autocommit mode,
and a failed run is retried from the top. So there every statement must be
one of the above (anything else belongs in a normal, atomic migration; a
plain `SELECT`, which re-runs harmlessly, may stay, e.g. a check between two
index builds), and
each must be safe to run twice: `IF NOT EXISTS` on `CREATE INDEX
CONCURRENTLY` (or a `DROP INDEX CONCURRENTLY IF EXISTS` of the same index
before it), `IF EXISTS` on the drops; `CREATE DATABASE` and `CREATE
TABLESPACE` can never be re-run. The applier refuses, before running
anything, exactly what this rule reports (both read `mobius_sqlcheck.policy`).

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

from mobius_sqlcheck import policy
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.layouts import outside_transaction_hint
from mobius_sqlcheck.parse import Statement
from mobius_sqlcheck.policy.base import MOVE_OUT_HINT

CODE = policy.NEEDS_NO_TRANSACTION
NAME = "needs-no-transaction"
SEVERITY = "error"
CATALOG_FREE = True  # runs beside the replay on a long history
NODE_TYPES = ("*",)
HINT = ("Put such statements in their own migration file whose first line is "
        f"{policy.DIRECTIVE}, each one idempotent (IF [NOT] EXISTS).")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    # The policy module decides; the applier refuses the same statements.
    # Hints in the terms of the tool that runs the file (its layout).
    view = policy.FileView(ctx.source, ctx.statements, ctx.no_transaction,
                           outside_transaction_hint(ctx.layout) or MOVE_OUT_HINT)
    for problem in policy.transaction_fit(statement, view):
        yield Finding(problem.message, problem.offset, hint=problem.hint)

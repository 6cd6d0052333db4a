"""BEGIN / COMMIT / ROLLBACK / START TRANSACTION inside a migration.

## What it does
Reports transaction control statements in migration files: `BEGIN`, `START
TRANSACTION`, `COMMIT` (`END`), `ROLLBACK` (`ABORT`) and the two-phase
`PREPARE TRANSACTION` / `COMMIT PREPARED` / `ROLLBACK PREPARED`; also
`COMMIT` and `ROLLBACK` inside a PL/pgSQL `DO` block. Savepoints (`SAVEPOINT`,
`RELEASE`, `ROLLBACK TO`) stay inside the transaction and are fine.

## Why is this bad?
The applier runs each file in one transaction and records the migration in
that same transaction, so a file is applied and recorded entirely or not at
all. A `COMMIT` in the file ends that transaction early: what follows runs
outside it, and a later failure leaves the file half applied and not
recorded, so the next run applies the first half again. `BEGIN` only warns
inside a transaction, but its `COMMIT` does the damage; `ROLLBACK` throws away
the work and the record.

## Example
```sql
BEGIN;
ALTER TABLE public.brands ADD COLUMN IF NOT EXISTS compressed_twin jsonb;
COMMIT;
```

## Use instead
```sql
ALTER TABLE public.brands ADD COLUMN IF NOT EXISTS compressed_twin jsonb;
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import policy
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = policy.TRANSACTION_CONTROL
NAME = "transaction-control"
SEVERITY = "error"
CATALOG_FREE = True  # runs beside the replay on a long history
NODE_TYPES = ("TransactionStmt", "DoStmt")
HINT = ("Remove it: the applier runs each file in one transaction. A statement that cannot run in a "
        "transaction goes in its own file marked -- mobius-sqlcheck: no-transaction.")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    # The policy module decides; the applier refuses the same statements.
    for problem in policy.transaction_control(statement, ctx.no_transaction):
        yield Finding(problem.message, problem.offset, hint=problem.hint)

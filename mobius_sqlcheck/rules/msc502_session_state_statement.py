"""A statement whose effect outlives its transaction on a pooled connection.

## What it does
Reports statements that change the state of the database session rather
than of the transaction:

- `SET` without `LOCAL` (also `SET SESSION CHARACTERISTICS`), `RESET`;
  `SET LOCAL` and `SET TRANSACTION` are fine;
- `DISCARD`, `LISTEN`, `PREPARE` / `DEALLOCATE`, `LOAD`;
- calls of the session advisory lock functions (`pg_advisory_lock`,
  `pg_try_advisory_lock`, their `_shared` forms and the `pg_advisory_unlock`
  family), anywhere in a statement; the `_xact_` forms are fine;
- `set_config(name, value, false)`; with `true` it is transaction-local;
- `CREATE TEMP TABLE` without `ON COMMIT DROP`, temporary views and
  sequences;
- `DECLARE ... WITH HOLD` cursors.

The applier refuses, before running anything, exactly what this rule
reports (both read `mobius_sqlcheck.policy`).

Function bodies and `DO` blocks are checked too (PL/pgSQL and SQL
functions): a `DO` block runs inside the migration, and a function runs
later in its caller's session, which under the pooler-only policy is a
pooled one as well, so a session-level `SET` or advisory lock in a trigger
function leaks exactly like one in the migration. Dynamic SQL (`EXECUTE
'...'`) is not inspected.

## Why is this bad?
Through a transaction pooler (Supavisor on 6543, PgBouncer in transaction
mode) each transaction may run on a different server connection, and a
server connection serves many clients in turn. Session state set by one
migration leaks to whichever client gets that connection next (a
`statement_timeout` or `search_path` that silently changes the backend's
queries), and state a later transaction expects (a prepared statement, a
held lock, a temp table) is on another connection. Two clients both "got"
advisory lock 42: it excludes nothing.

## Example
```sql
SET statement_timeout = '5min';
SELECT pg_advisory_lock(42);
UPDATE public.brands SET learning_active = true WHERE feedback_count >= 50;
```

## Use instead
```sql
SET LOCAL statement_timeout = '5min';
SELECT pg_advisory_xact_lock(42);
UPDATE public.brands SET learning_active = true WHERE feedback_count >= 50;
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import policy
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = policy.SESSION_STATE
NAME = "session-state-statement"
SEVERITY = "error"
CATALOG_FREE = True  # runs beside the replay on a long history
NODE_TYPES = ("*",)
HINT = ("Use the transaction-scoped form: SET LOCAL, set_config(..., true), pg_advisory_xact_lock(), "
        "CREATE TEMP TABLE ... ON COMMIT DROP, a cursor without WITH HOLD.")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    # The policy module decides; the applier refuses the same statements.
    for problem in policy.session_state(statement, ctx.source, _file_mentions_calls(ctx)):
        yield Finding(problem.message, problem.offset, hint=problem.hint)


def _file_mentions_calls(ctx: StatementContext) -> bool:
    """Whether the file mentions a session call at all: searched once per
    file (remembered in the file's context)."""
    found = ctx.memo.get(CODE)
    if found is None:
        found = ctx.memo[CODE] = policy.mentions_calls(ctx.source.data)
    return bool(found)

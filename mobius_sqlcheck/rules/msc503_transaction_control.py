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

import json
from typing import Iterator

from pglast import parser as pg_parser

from mobius_sqlcheck import nodes
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC503"
NAME = "transaction-control"
SEVERITY = "error"
NODE_TYPES = ("TransactionStmt", "DoStmt")
HINT = ("Remove it: the applier runs each file in one transaction. A statement that cannot run in a "
        "transaction goes in its own file marked -- mobius-sqlcheck: no-transaction.")
_MESSAGES = {
    "TRANS_STMT_BEGIN": "BEGIN inside a migration: the applier already runs the file in a transaction, and the "
                        "COMMIT that goes with it ends that transaction early",
    "TRANS_STMT_START": "START TRANSACTION inside a migration: the applier already runs the file in a "
                        "transaction, and the COMMIT that goes with it ends that transaction early",
    "TRANS_STMT_COMMIT": "COMMIT inside a migration ends the applier's transaction early: what follows runs "
                         "outside it, and a later failure leaves the file half applied and unrecorded",
    "TRANS_STMT_ROLLBACK": "ROLLBACK inside a migration throws away the applier's transaction, with its record "
                           "of the migration",
    "TRANS_STMT_PREPARE": "PREPARE TRANSACTION inside a migration hands the applier's transaction to two-phase "
                          "commit",
    "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED cannot run inside the applier's transaction",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED cannot run inside the applier's transaction",
}
_PLPGSQL_ENDINGS = {"PLpgSQL_stmt_commit": "COMMIT", "PLpgSQL_stmt_rollback": "ROLLBACK"}


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    if statement.node_type == "TransactionStmt":
        message = _MESSAGES.get(statement.node.get("kind", ""))
        if message is not None:
            yield Finding(message, statement.start)
        return
    ending = _do_block_ending(statement.node)
    if ending is not None:
        yield Finding(f"{ending} inside a DO block ends the applier's transaction (PostgreSQL refuses it inside "
                      "a transaction block)", statement.start)


def _do_block_ending(node: dict) -> str | None:
    """COMMIT or ROLLBACK in a PL/pgSQL DO block, if any."""
    body, language = None, "plpgsql"
    for element in nodes.def_elems(node.get("args")):
        if element.get("defname") == "as":
            body = element.get("arg", {}).get("String", {}).get("sval")
        elif element.get("defname") == "language":
            language = element.get("arg", {}).get("String", {}).get("sval", "").lower()
    lowered = (body or "").lower()
    if language != "plpgsql" or ("commit" not in lowered and "rollback" not in lowered):
        return None
    wrapped = f"CREATE FUNCTION mobius_do() RETURNS void LANGUAGE plpgsql AS $mobius_body${body}$mobius_body$"
    try:
        tree = json.loads(pg_parser.parse_plpgsql_json(wrapped))
    except (pg_parser.Error, ValueError):
        return None
    for node_type, _ in nodes.walk(tree):
        if node_type in _PLPGSQL_ENDINGS:
            return _PLPGSQL_ENDINGS[node_type]
    return None

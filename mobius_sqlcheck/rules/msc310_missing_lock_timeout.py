"""A statement that blocks writes on an existing table while no lock_timeout is in force.

## What it does
Reports the first statement of a migration that takes a lock conflicting
with writes (SHARE or stronger, by the measured lock model) on an existing
table, when no `lock_timeout` is in force: the file sets none before it
(`SET [LOCAL] lock_timeout = ...` or `set_config('lock_timeout', ...)`, not
0), and the migrations are not applied by mobius-sqlcheck. One finding per
file, at that statement (a statement inside a DO block or function body
counts where it is written): the fix, one `SET` at the top of the file,
covers every statement after it.

Who applies the migrations is the `runner` config key: `"mobius-sqlcheck"`
(the default; our applier runs every migration with `SET LOCAL
lock_timeout`, the `lock_timeout` key, so this rule never fires) or
`"other"` (any other tool: Supabase CLI, psql, a framework's runner).

## Why is this bad?
A lock request waits behind every transaction that holds a conflicting lock,
and while it waits, every later query that needs a conflicting lock queues
behind it. An `ALTER TABLE assets ...` that waits a minute for a long
report to finish blocks all reads and writes of `assets` for that minute,
even if the ALTER itself takes a millisecond. With a lock_timeout the
migration fails fast instead, and can be retried.

## Example
```sql
ALTER TABLE public.assets ADD COLUMN reviewed_at timestamptz;
```

## Use instead
```sql
SET LOCAL lock_timeout = '5s';
ALTER TABLE public.assets ADD COLUMN reviewed_at timestamptz;
```
`SET LOCAL` ends with the migration's transaction, which keeps a pooled
server connection clean (see MSC502).
"""

from __future__ import annotations

from typing import Iterator, cast

from mobius_sqlcheck import locks, nodes
from mobius_sqlcheck.rules._support import lock_rules
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC310"
NAME = "missing-lock-timeout"
SEVERITY = "warning"
NODE_TYPES = ("*",)
HINT = "Start the migration with SET LOCAL lock_timeout = '5s'; (fail fast instead of queueing every query)."


_SCANNED = f"{CODE}:scanned"  # (statements read, lock_timeout in force after them)


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    if (ctx.config.runner == "mobius-sqlcheck" or statement.node_type in ("VariableSetStmt", "SelectStmt")
            or ctx.memo.get(CODE)):  # reported in this file already
        return
    effects = [effect for effect in locks.predict(statement, ctx.catalog, ctx.config.postgres_version)
               if locks.rank(effect.mode) >= locks.rank(locks.BLOCKS_WRITES)
               and lock_rules.is_existing(effect.table, ctx)]
    if not effects or _timeout_set_before(statement, ctx):
        return
    # Once per file: its fix, one SET at the top, covers every statement after it. The
    # statements are checked in file order, each with the catalog as it stood before it.
    ctx.memo[CODE] = True
    strongest = max(effects, key=lambda effect: locks.rank(effect.mode))
    tables = [effect.table for effect in effects if effect.mode == strongest.mode]
    yield Finding(f"no lock_timeout is in force: while this statement waits for its "
                  f"{lock_rules.lock_phrase(strongest.mode, tables)}, and every later query on "
                  f"{nodes.display(tables[0])} queues behind it", statement.start)


def _timeout_set_before(statement: Statement, ctx: StatementContext) -> bool:
    # Statements come in file order: carry on from where the last call stopped
    # (a file of many ALTERs after its SET would otherwise rescan its top each time).
    scanned, timeout = cast("tuple[int, bool]", ctx.memo.get(_SCANNED, (0, False)))
    for earlier in ctx.statements[scanned:statement.index]:
        setting = _lock_timeout_setting(earlier)
        if setting is not None:
            timeout = setting
    ctx.memo[_SCANNED] = (max(scanned, statement.index), timeout)
    return timeout


def _lock_timeout_setting(statement: Statement) -> bool | None:
    """True: sets a non-zero lock_timeout; False: sets it to 0 or resets it; None: neither."""
    node = statement.node
    if statement.node_type == "VariableSetStmt" and node.get("name") == "lock_timeout":
        if node.get("kind") != "VAR_SET_VALUE":
            return False
        return not _is_zero(node.get("args", [{}])[0])
    if statement.node_type == "SelectStmt":
        for _, call in nodes.walk(node):
            if "funcname" not in call or nodes.names(call.get("funcname"))[-1:] != ["set_config"]:
                continue
            args = call.get("args", [])
            if len(args) >= 2 and nodes.const_value(args[0]) == "lock_timeout":
                return not _is_zero(args[1])
    return None


def _is_zero(value: dict) -> bool:
    constant = nodes.const_value(value)
    return constant in (0, "0", "0s", "0ms") or (isinstance(constant, float) and constant == 0)

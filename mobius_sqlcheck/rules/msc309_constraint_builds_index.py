"""ADD PRIMARY KEY / UNIQUE / EXCLUDE that builds its index under ACCESS EXCLUSIVE.

## What it does
Reports `ALTER TABLE ... ADD PRIMARY KEY | UNIQUE | EXCLUDE` (and ADD COLUMN
with PRIMARY KEY or UNIQUE) on an existing table (created by an earlier
migration, or a platform table) when the constraint builds its own index,
i.e. it is not `... USING INDEX`. A table created earlier in the same file
is fine.

## Why is this bad?
The constraint's index is built while ALTER TABLE holds ACCESS EXCLUSIVE on
the table: no reads and no writes for the whole build (a PRIMARY KEY over
nullable columns scans once more to prove them NOT NULL). The index can be
built first with CREATE UNIQUE INDEX CONCURRENTLY, which blocks neither, and
then attached as the constraint: `ADD CONSTRAINT ... USING INDEX` only
changes the catalog. (EXCLUDE has no USING INDEX form.)

## Example
```sql
ALTER TABLE public.brands ADD CONSTRAINT brands_slug_key UNIQUE (slug);
```

## Use instead
```sql
-- 010_brands_slug_index.sql
-- mobius-sqlcheck: no-transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS brands_slug_key ON public.brands (slug);
-- 011_brands_slug_key.sql
ALTER TABLE public.brands ADD CONSTRAINT brands_slug_key UNIQUE USING INDEX brands_slug_key;
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.rules._support import alter_table, lock_rules
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC309"
NAME = "constraint-builds-index"
SEVERITY = "warning"
NODE_TYPES = ("AlterTableStmt",)
LOCK_FORMS = ("ALTER TABLE ADD PRIMARY KEY", "ALTER TABLE ADD UNIQUE", "ALTER TABLE ADD EXCLUDE",
              "ALTER TABLE ADD COLUMN PRIMARY KEY", "ALTER TABLE ADD COLUMN UNIQUE",
              "ALTER TABLE ADD PRIMARY KEY USING INDEX", "ALTER TABLE ADD UNIQUE USING INDEX")
HINT = ("CREATE UNIQUE INDEX CONCURRENTLY in a no-transaction migration, then ADD CONSTRAINT <name> "
        "PRIMARY KEY | UNIQUE USING INDEX <index> (catalog only).")
_KINDS = {"CONSTR_PRIMARY": "PRIMARY KEY", "CONSTR_UNIQUE": "UNIQUE", "CONSTR_EXCLUSION": "EXCLUDE"}


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    key = alter_table.existing_table(statement, ctx)
    if key is None:
        return
    for command in alter_table.commands(statement.node, "AT_AddConstraint"):
        constraint = command.get("def", {}).get("Constraint", {})
        kind = _KINDS.get(constraint.get("contype", ""))
        if kind is None or constraint.get("indexname"):
            continue
        yield from _finding(statement, ctx, key, constraint, kind, f"ALTER TABLE ADD {kind}")
    for _, column_def in alter_table.added_columns(statement, ctx):
        for item in column_def.get("constraints", ()):
            constraint = item.get("Constraint", {})
            kind = _KINDS.get(constraint.get("contype", ""))
            if kind in ("PRIMARY KEY", "UNIQUE"):
                yield from _finding(statement, ctx, key, constraint, kind, f"ALTER TABLE ADD COLUMN {kind}")


def _finding(statement: Statement, ctx: StatementContext, key: tuple[str, str], constraint: dict,
             kind: str, form: str) -> Iterator[Finding]:
    mode = lock_rules.mode_of(form, ctx)
    if mode is None:
        return
    name = constraint.get("conname") or "<name>"
    columns = ", ".join(nodes.names(constraint.get("keys"))) or "..."
    if kind == "EXCLUDE":
        hint = "EXCLUDE has no USING INDEX form: add it when the table is small, or in a maintenance window."
    else:
        hint = (f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {nodes.display(key)} ({columns}); "
                f"in a no-transaction migration, then ALTER TABLE {nodes.display(key)} ADD CONSTRAINT {name} "
                f"{kind} USING INDEX {name};")
    yield Finding(f"ADD {kind} builds its index under the ALTER TABLE's lock: {lock_rules.lock_phrase(mode, [key])}",
                  statement.offset(constraint.get("location", -1)), hint=hint)

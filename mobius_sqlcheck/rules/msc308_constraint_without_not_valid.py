"""ADD FOREIGN KEY or CHECK on a table that may hold rows, without NOT VALID.

## What it does
Reports `ALTER TABLE ... ADD [CONSTRAINT name] FOREIGN KEY | CHECK` without
`NOT VALID` on an existing table (created by an earlier migration, or a
platform table). A constraint on a table created earlier in the same file
is fine: there is nothing to validate.

## Why is this bad?
Adding the constraint validates every existing row while the statement's
lock is held, and the migration's transaction keeps the lock until COMMIT.
A CHECK holds ACCESS EXCLUSIVE on the table (no reads, no writes); a
foreign key holds SHARE ROW EXCLUSIVE on both the table and the table it
references (no writes to either), for as long as the validating scan takes.
Added `NOT VALID`, the constraint is checked for new rows only and the ADD
is instant; `VALIDATE CONSTRAINT` then scans under SHARE UPDATE EXCLUSIVE,
which lets reads and writes go on. It must run in a later migration: in the
same transaction the ADD's lock is still held during the scan.

## Example
```sql
ALTER TABLE public.assets ADD CONSTRAINT assets_brand_id_fkey
    FOREIGN KEY (brand_id) REFERENCES public.brands (brand_id);
```

## Use instead
```sql
-- 008_assets_brand_fk.sql
ALTER TABLE public.assets ADD CONSTRAINT assets_brand_id_fkey
    FOREIGN KEY (brand_id) REFERENCES public.brands (brand_id) NOT VALID;
-- 009_assets_brand_fk_validate.sql
ALTER TABLE public.assets VALIDATE CONSTRAINT assets_brand_id_fkey;
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import nodes
from mobius_sqlcheck.rules._support import alter_table, lock_rules
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC308"
NAME = "constraint-without-not-valid"
SEVERITY = "warning"
NODE_TYPES = ("AlterTableStmt",)
LOCK_FORMS = ("ALTER TABLE ADD FOREIGN KEY", "ALTER TABLE ADD FOREIGN KEY NOT VALID", "ALTER TABLE ADD CHECK",
              "ALTER TABLE ADD CHECK NOT VALID", "ALTER TABLE VALIDATE CONSTRAINT (check)",
              "ALTER TABLE VALIDATE CONSTRAINT (foreign key)")
HINT = ("ADD the constraint ... NOT VALID (instant), then VALIDATE CONSTRAINT <name> in a later migration "
        "(scans without blocking reads or writes).")


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    key = alter_table.existing_table(statement, ctx)
    if key is None:
        return
    for command in alter_table.commands(statement.node, "AT_AddConstraint"):
        constraint = command.get("def", {}).get("Constraint", {})
        contype = constraint.get("contype")
        if contype not in ("CONSTR_FOREIGN", "CONSTR_CHECK") or constraint.get("skip_validation"):
            continue
        foreign = contype == "CONSTR_FOREIGN"
        form = "ALTER TABLE ADD FOREIGN KEY" if foreign else "ALTER TABLE ADD CHECK"
        mode = lock_rules.mode_of(form, ctx)
        if mode is None:
            continue
        tables = [key]
        if foreign and "pktable" in constraint:
            referenced = nodes.relation_key(constraint["pktable"])
            if referenced != key and lock_rules.mode_of(form, ctx, "referenced") == mode:
                tables.append(referenced)
        kind = "FOREIGN KEY" if foreign else "CHECK"
        name = constraint.get("conname")
        label = f"{kind} {name}" if name else kind
        yield Finding(f"ADD {label} validates every row of {nodes.display(key)} under its lock: "
                      f"{lock_rules.lock_phrase(mode, tables)}",
                      statement.offset(constraint.get("location", -1)), hint=_hint(key, name))


def _hint(key: tuple[str, str], name: str | None) -> str:
    named = name or "<name>"
    return (f"Add it NOT VALID here (instant), then in a later migration: ALTER TABLE {nodes.display(key)} "
            f"VALIDATE CONSTRAINT {named}; (scans without blocking reads or writes)."
            + ("" if name else " Name the constraint so the later migration can validate it."))

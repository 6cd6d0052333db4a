"""ALTER COLUMN ... TYPE that rewrites a table that may hold rows.

## What it does
Reports `ALTER TABLE ... ALTER COLUMN ... TYPE` on an existing table (created
by an earlier migration, or a platform table) unless the change is one
PostgreSQL makes without touching the rows:

- `varchar(n)` to `varchar(m)` with m >= n, to `varchar` or to `text`;
  `text` to `varchar`;
- `numeric(p, s)` to `numeric(q, s)` with q >= p (same scale), or to `numeric`;
- `varbit(n)` to a larger n or to `varbit`;
- a larger precision, or none, for `timestamp`, `timestamptz`, `time`,
  `timetz` and `interval`;
- `cidr` to `inet`; the same type and modifiers again.

- `timestamp` to plain `timestamptz` (no precision) when the file set the
  session time zone to UTC before it (`SET [LOCAL] timezone = 'UTC'`,
  `SET [LOCAL] TIME ZONE 'UTC'`): PostgreSQL 12+ then keeps the rows (to
  `timestamptz(3)` it still rewrites: the trace self-check measured it).

A `USING` clause other than the bare column counts as a rewrite, and so does
`timestamp` to `timestamptz` without that `SET` (the server's default time
zone is not known here). When the column's current type is unknown (a platform table)
the change is reported. The list was checked on PostgreSQL 15 by comparing
the table's file node before and after each change.

## Why is this bad?
Any other type change rewrites every row and rebuilds every index of the
table under an ACCESS EXCLUSIVE lock: no one reads or writes `assets` until
it is done.

## Example
```sql
ALTER TABLE public.assets ALTER COLUMN status TYPE varchar(20);  -- was varchar(50)
ALTER TABLE public.jobs ALTER COLUMN webhook_attempts TYPE bigint;
```

## Use instead
```sql
ALTER TABLE public.assets ALTER COLUMN status TYPE varchar(100);  -- larger: no rewrite
ALTER TABLE public.brands ALTER COLUMN name TYPE text;          -- varchar to text: no rewrite
-- Otherwise: add a new column, backfill it in batches, switch readers over,
-- and drop the old column in a later migration.
```
"""

from __future__ import annotations

from typing import Iterator, TypeGuard

from mobius_sqlcheck import nodes
from mobius_sqlcheck.rules._support import alter_table
from mobius_sqlcheck.catalog import Column
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.parse import Statement

CODE = "MSC304"
NAME = "column-type-change"
SEVERITY = "warning"
NODE_TYPES = ("AlterTableStmt",)
HINT = ("No rewrite: varchar(n) to a larger n, to varchar or text; numeric(p,s) to a larger p, same s. "
        "Otherwise add a new column, backfill it in batches, and switch over in a later migration.")
_TYPE_KEYWORDS = (("TYPE_P",), ("SET", "DATA_P"))
# Types whose single modifier is a length or precision that may only grow.
_GROWABLE = ("varchar", "varbit", "timestamp", "timestamptz", "time", "timetz", "interval")
# (from, to) pairs that are binary coercible whatever the modifiers of `to` allow.
_RELABELS = {("varchar", "text"), ("text", "varchar"), ("cidr", "inet")}


def check_statement(statement: Statement, ctx: StatementContext) -> Iterator[Finding]:
    key = alter_table.existing_table(statement, ctx)
    if key is None:
        return
    table = ctx.catalog.table(key)
    from mobius_sqlcheck.locks import session_time_zone_is_utc

    utc = session_time_zone_is_utc(ctx.statements[:statement.index])
    for command in alter_table.commands(statement.node, "AT_AlterColumnType"):
        name = command.get("name", "")
        column_def = command.get("def", {}).get("ColumnDef", {})
        new_type = column_def.get("typeName") or {}
        old = table.columns.get(name) if table is not None else None
        if old is not None and keeps_rows(old, new_type, column_def.get("raw_default"), name, utc):
            continue
        start, end = alter_table.column_span(ctx.source, statement, name, followed_by=_TYPE_KEYWORDS)
        yield Finding(_message(name, key, old, new_type), start, end)


def keeps_rows(old: Column, new_type: dict, using: dict | None, column: str, utc: bool = False) -> bool:
    """True when PostgreSQL changes only the catalog, not the rows (`utc`:
    the session time zone is UTC, so timestamp to timestamptz keeps them)."""
    if using is not None and nodes.names(using.get("ColumnRef", {}).get("fields"))[-1:] != [column]:
        return False
    if new_type.get("arrayBounds") or old.type_name.endswith("[]"):
        return nodes.type_name(new_type) == old.type_name
    old_base, new_base = old.base_type, nodes.base_type(new_type)
    new_mods = nodes.type_mods(new_type)
    if (old_base, new_base) in _RELABELS:
        return new_base != "varchar" or not new_mods
    if utc and (old_base, new_base) == ("timestamp", "timestamptz"):
        # Only to a plain timestamptz: with a precision the length coercion rewrites (measured on 15).
        return not new_mods
    if old_base != new_base:
        return False
    if not new_mods or new_mods == old.type_mods:
        return True  # no limit at all, or the same one
    if not old.type_mods:
        return False  # unlimited to limited: every row is checked or cast
    if old_base in _GROWABLE:
        return _is_number(new_mods[0]) and _is_number(old.type_mods[0]) and new_mods[0] >= old.type_mods[0]
    if old_base == "numeric":
        return _numeric_grows(old.type_mods, new_mods)
    return False


def _numeric_grows(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    old_precision, new_precision = old[0], new[0]
    old_scale = old[1] if len(old) > 1 else 0
    new_scale = new[1] if len(new) > 1 else 0
    return (_is_number(old_precision) and _is_number(new_precision) and _is_number(old_scale)
            and _is_number(new_scale) and new_scale == old_scale and new_precision >= old_precision)


def _is_number(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _message(column: str, key: tuple[str, str], old: Column | None, new_type: dict) -> str:
    new = nodes.type_name(new_type)
    table = nodes.display(key)
    if old is None:
        return (f"changing {column} to {new} on {table}, whose current type is unknown here: most type "
                "changes rewrite the table and its indexes under an ACCESS EXCLUSIVE lock")
    return (f"changing {column} from {old.type_name} to {new} rewrites {table} and its indexes under an "
            "ACCESS EXCLUSIVE lock")

"""What the lock rules (MSC306-MSC311) share: the measured lock of a form on
the configured PostgreSQL version, the words for it, and the lock table row
that `explain` shows."""

from __future__ import annotations

from mobius_sqlcheck import locks, nodes
from mobius_sqlcheck.rules._support import alter_table
from mobius_sqlcheck.context import StatementContext

# The ADD COLUMN forms that rewrite the table (measured): MSC302 reports them,
# with advice of its own, so MSC311 leaves them out.
ADD_COLUMN_REWRITES = ("ALTER TABLE ADD COLUMN DEFAULT volatile", "ALTER TABLE ADD COLUMN serial",
                       "ALTER TABLE ADD COLUMN GENERATED AS IDENTITY", "ALTER TABLE ADD COLUMN GENERATED STORED")


def mode_of(form: str, ctx: StatementContext, role: str = "table") -> str | None:
    """The lock `form` takes on its `role` table on the configured version."""
    measured = locks.row(form, role, ctx.config.postgres_version)
    return measured.mode if measured is not None else None


def rewrites(form: str, ctx: StatementContext) -> bool:
    measured = locks.row(form, "table", ctx.config.postgres_version)
    return measured is not None and measured.rewrites


def lock_phrase(mode: str, tables: list[tuple[str, str]]) -> str:
    """`SHARE lock on public.brands blocks INSERT/UPDATE/DELETE until the migration commits`."""
    names = " and ".join(nodes.display(key) for key in tables)
    return f"{locks.display_mode(mode)} lock on {names} blocks {locks.BLOCKS[mode]} until the migration commits"


def is_existing(key: tuple[str, str], ctx: StatementContext) -> bool:
    """A table or materialized view that may hold rows (see alter_table.is_existing)."""
    return alter_table.is_existing(key, ctx)


def lock_table(forms: tuple[str, ...]) -> str:
    """The measured rows of `forms`, as a Markdown table for `explain`."""
    lines = ["| statement form | PostgreSQL | lock (table it is on) | rewrites | scans |", "|---|---|---|---|---|"]
    servers = locks.server_versions()
    for form in forms:
        entry = locks.forms_measured().get(form)
        if entry is None:
            continue
        for major, measured in entry["versions"].items():
            roles = measured["roles"]
            lock = ", ".join(f"{locks.display_mode(row['mode'])} ({role})" for role, row in roles.items() if row["mode"])
            rewritten = "yes" if any(row["rewrites"] for row in roles.values()) else "no"
            scanned = _scanned(list(roles.values()))
            lines.append(f"| `{entry['example']}` ({form}) | {servers.get(major, major)} | {lock or 'none'} "
                         f"| {rewritten} | {scanned} |")
    return "\n".join(lines)


def _scanned(rows: list[dict]) -> str:
    if any(row["scans"] for row in rows):
        return "yes"
    return "not measured" if all(row["scans"] is None for row in rows) else "no"

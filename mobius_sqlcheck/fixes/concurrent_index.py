"""MSC306: `CREATE INDEX` / `REINDEX` on an existing table -> `... CONCURRENTLY`.

CONCURRENTLY cannot run in a transaction, so the migration must run outside
one, the way its layout says so (`layouts/`, `run_outside_transaction`):
our `-- mobius-sqlcheck: no-transaction` line, dbmate's `-- migrate:up
transaction:false`, diesel's `metadata.toml`, Flyway's `<script>.sql.conf`;
the Supabase CLI and golang-migrate need nothing for a file of only such
statements (of one, for golang-migrate); Prisma has no way, so nothing but
the suppression is offered there. Every statement of such a file must be
one that cannot run in a transaction and is safe to run again, so
`IF NOT EXISTS` is added (an unnamed index is given the name PostgreSQL
would choose, `<table>_<columns>_idx`, to have one). So:

- a migration holding only index builds is rewritten in place, marked;
- otherwise the statement moves to a new migration after every other one,
  with its rollback (`DROP INDEX CONCURRENTLY IF EXISTS`) where the layout
  has rollbacks, and the `DROP INDEX` of it leaves the old rollback
  (offered in the editor for any file, as the second action).

Not offered for DDL inside a DO block or a function body: it runs in the
caller's transaction, where CONCURRENTLY is refused.
"""

from __future__ import annotations

import os
import re

from mobius_sqlcheck.fixes.base import (
    Edit,
    Fix,
    FixContext,
    Span,
    apply_edits,
    layout_of,
    migration_of,
    new_migration,
    quote_identifier,
    sections,
    statement_span,
    statement_with_terminator,
    to_edits,
)
from mobius_sqlcheck.layouts import Script
from mobius_sqlcheck.parse import Statement, parse_source
from mobius_sqlcheck.source import SourceFile, read_source

_HEADS = {
    "IndexStmt": re.compile(r"CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.IGNORECASE),
    "ReindexStmt": re.compile(r"REINDEX\s+(?:\([^)]*\)\s*)?(?:INDEX|TABLE|SCHEMA|DATABASE|SYSTEM)\b", re.IGNORECASE),
}
_UNNAMED = re.compile(r"\s+ON\b", re.IGNORECASE)
NOTHING_TO_UNDO = "-- Nothing to undo: {what}.\nSELECT 1;\n"
_MAX_NAME = 63  # NAMEDATALEN - 1


def _is_concurrent(statement: Statement) -> bool:
    if statement.node_type == "IndexStmt":
        return bool(statement.node.get("concurrent"))
    return any(item.get("DefElem", {}).get("defname") == "concurrently" for item in statement.node.get("params", ()))


def fixes(context: FixContext) -> list[Fix]:
    statement = context.statement
    if statement is None or statement.node_type not in _HEADS or _is_concurrent(statement):
        return []
    if statement.start != context.offset:
        return []  # the finding is on DDL inside this statement (a DO block, a function body)
    rewritten = _concurrent_text(context, statement)
    if rewritten is None:
        return []
    found = []
    in_place = _in_place(context, statement, rewritten) if _only_index_builds(context) else None
    if in_place is not None:
        found.append(in_place)
    moved = _moved(context, statement, rewritten, mechanical=not found)
    if moved is not None:
        found.append(moved)
    return found


def index_name(statement: Statement) -> str | None:
    """The index's name: as written, or the one PostgreSQL would choose."""
    node = statement.node
    if node.get("idxname"):
        return node["idxname"]
    columns = [item.get("IndexElem", {}).get("name") or "expr" for item in node.get("indexParams", ())]
    name = "_".join([node.get("relation", {}).get("relname", ""), *columns, "idx"])
    return name if columns and len(name.encode()) <= _MAX_NAME else None


def _concurrent_text(context: FixContext, statement: Statement) -> str | None:
    start, end = context.char(statement.start), context.char(statement.end)
    text = context.text[start:end]
    head = _HEADS[statement.node_type].match(text)
    if head is None:
        return None
    insert = " CONCURRENTLY"
    if statement.node_type == "IndexStmt" and not statement.node.get("if_not_exists"):
        # A no-transaction file is run again from the top after a failure.
        name = index_name(statement)
        if statement.node.get("idxname"):
            insert += " IF NOT EXISTS"
        elif name is not None and _UNNAMED.match(text, head.end()):
            insert += f" IF NOT EXISTS {quote_identifier(name)}"
    return text[:head.end()] + insert + text[head.end():]


def _only_index_builds(context: FixContext) -> bool:
    """Every statement of the migration (its up section, in a dbmate file) is an index build."""
    forward, _ = sections(context)
    return all(s.node_type in _HEADS for s in context.parsed.statements if forward.holds(s))


def _in_place(context: FixContext, statement: Statement, rewritten: str) -> Fix | None:
    layout = layout_of(context)
    if layout is None or not hasattr(layout, "run_outside_transaction"):
        return None
    path = context.source.path
    start, end = context.char(statement.start), context.char(statement.end)
    rewrite = Edit(path, start, end, rewritten)
    changes = layout.run_outside_transaction(path, apply_edits(context.text, [rewrite]))
    if changes is None:
        return None  # the layout has no way to run this file outside a transaction
    if any(c.path == path and c.end > start for c in changes):
        return None  # a marker after the statement: offsets of the two edits would clash
    edits, new_files = to_edits(changes)
    others = sorted({os.path.basename(c.path) for c in changes if c.path != path})
    how = ("marks the file no-transaction" if edits and not others else
           f"{', '.join(others)} runs it outside a transaction" if others else
           "the file then runs outside a transaction as it is")
    return Fix(f"Build the index CONCURRENTLY ({how})", context.code, (rewrite, *edits), new_files, mechanical=True)


def _moved(context: FixContext, statement: Statement, rewritten: str, mechanical: bool) -> Fix | None:
    name = index_name(statement) if statement.node_type == "IndexStmt" else None
    relation = statement.node.get("relation", {})
    if name is not None:
        schema = relation.get("schemaname")
        qualified = ".".join(quote_identifier(part) for part in (schema, name) if part)
        down = Script(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified};\n", in_transaction=False)
    else:
        down = Script(NOTHING_TO_UNDO.format(what="REINDEX only rebuilt what was there"), in_transaction=False)
    label = name or relation.get("relname") or "index"
    made = new_migration(context, f"concurrent_{label}", Script(f"{rewritten};\n", in_transaction=False), down)
    if made is None:
        return None
    edits, new_files = made
    start, end = statement_with_terminator(context, statement)
    removals = [Edit(context.source.path, start, end, "")]
    dropped = _drop_in_rollback(context, name) if name is not None else None
    if dropped is not None:
        removals.append(dropped)
    return Fix(f"Move the index build to a new migration, CONCURRENTLY ({_shown(new_files[0].path, context)})",
               context.code, (*removals, *edits), new_files, mechanical=mechanical)


def _shown(path: str, context: FixContext) -> str:
    directory = context.migration_set.directory if context.migration_set is not None else ""
    return os.path.relpath(path, directory or ".")


def _drop_in_rollback(context: FixContext, name: str) -> Edit | None:
    """The old rollback's `DROP INDEX <name>`, removed: the index is now the
    new migration's, and its own rollback drops it."""
    migration = migration_of(context)
    if migration is None or context.migration_set is None:
        return None
    rollback = context.migration_set.rollback_for(migration)
    if rollback is None:
        return None
    same_file = os.path.abspath(rollback.path) == os.path.abspath(context.source.path)
    source = context.source if same_file else read_source(rollback.path)
    if not isinstance(source, SourceFile):
        return None
    _, down = sections(context)
    span = (down or Span(len(source.data), None)) if same_file else Span(0, None)
    for statement in (context.parsed if same_file else parse_source(source)).statements:
        if span.holds(statement) and _drops_only(statement, name):
            start, end = statement_span(source, statement)
            return Edit(rollback.path, start, end, "")
    return None


def _drops_only(statement: Statement, name: str) -> bool:
    if statement.node_type != "DropStmt" or statement.node.get("removeType") != "OBJECT_INDEX":
        return False
    objects = statement.node.get("objects", ())
    if len(objects) != 1:
        return False
    items = objects[0].get("List", {}).get("items", ())
    names = [item["String"]["sval"] for item in items if "String" in item]
    return bool(names) and names[-1] == name

"""Helpers the column-safety rules (MSC301-MSC305) share: which ALTER TABLE
targets a table that may hold rows, its sub-commands, and where a column name
is written (libpg_query gives most sub-commands no location)."""

from __future__ import annotations

from typing import Iterator

from pglast import Error as PglastError

from mobius_sqlcheck import nodes
from mobius_sqlcheck.context import StatementContext
from mobius_sqlcheck.parse import Statement, scan
from mobius_sqlcheck.source import SourceFile

# Between ALTER / DROP / RENAME and a column name.
_SKIPPED = ("COLUMN", "IF_P", "EXISTS")


def existing_table(statement: Statement, ctx: StatementContext) -> tuple[str, str] | None:
    """The key of the table an ALTER TABLE changes, if that table may hold
    rows: created by an earlier file or never created here; not one created
    earlier in this file, not a temporary table."""
    node = statement.node
    if node.get("objtype", "OBJECT_TABLE") != "OBJECT_TABLE" or "relation" not in node:
        return None
    if node["relation"].get("relpersistence") == "t":
        return None
    key = nodes.relation_key(node["relation"])
    return key if is_existing(key, ctx) else None


def is_existing(key: tuple[str, str], ctx: StatementContext) -> bool:
    if not ctx.is_existing_table(key):
        return False
    table = ctx.catalog.table(key)
    if table is None:
        return True
    # Created in this file under another name (then renamed), or temporary: new and empty.
    created_here = table.origin is not None and table.origin.path == ctx.source.path
    return not created_here and not table.temporary


def added_columns(statement: Statement, ctx: StatementContext) -> Iterator[tuple[tuple[str, str], dict]]:
    """(table key, ColumnDef) of each ADD COLUMN that really adds a column to
    a table that may hold rows (not IF NOT EXISTS of a column already there)."""
    key = existing_table(statement, ctx)
    if key is None:
        return
    table = ctx.catalog.table(key)
    for command in commands(statement.node, "AT_AddColumn"):
        column_def = command.get("def", {}).get("ColumnDef", {})
        if table is None or column_def.get("colname") not in table.columns:
            yield key, column_def


def commands(node: dict, *subtypes: str) -> Iterator[dict]:
    """The AlterTableCmd bodies of the given subtypes, in order."""
    for item in node.get("cmds", ()):
        command = item.get("AlterTableCmd")
        if command is not None and command.get("subtype") in subtypes:
            yield command


def column_span(source: SourceFile, statement: Statement, column: str, keyword: str = "ALTER",
                followed_by: tuple[tuple[str, ...], ...] = ()) -> tuple[int, int]:
    """Byte span of `column` where the statement names it after `keyword`
    (ALTER, DROP or RENAME) [COLUMN] [IF EXISTS], and, when given, before one
    of the token sequences `followed_by` (scanner token names, e.g.
    ("SET", "NOT", "NULL_P")) so that the right sub-command is found; the
    statement's first token if not found."""
    text = source.data[statement.start:statement.end].decode("utf-8", "replace")
    try:
        tokens = scan(text)  # linear in non-ASCII text, unlike pglast's own scan
    except PglastError:
        return statement.start, statement.start
    names = [token.name for token in tokens]
    for index, token in enumerate(tokens):
        if token.name != keyword:
            continue
        at = index + 1
        while at < len(tokens) and names[at] in _SKIPPED:
            at += 1
        if at >= len(tokens):
            break
        candidate = tokens[at]
        if identifier_text(text[candidate.start:candidate.end + 1]) != column:
            continue
        if followed_by and not any(tuple(names[at + 1:at + 1 + len(seq)]) == seq for seq in followed_by):
            continue
        return _byte_span(text, statement.start, candidate.start, candidate.end + 1)
    return statement.start, statement.start


def identifier_text(word: str) -> str:
    """An identifier as PostgreSQL stores it: quoted kept exact, else lower-cased."""
    if len(word) >= 2 and word[0] == word[-1] == '"':
        return word[1:-1].replace('""', '"')
    return word.lower()


def _byte_span(text: str, base: int, start: int, end: int) -> tuple[int, int]:
    begin = base + len(text[:start].encode("utf-8"))
    return begin, begin + len(text[start:end].encode("utf-8"))

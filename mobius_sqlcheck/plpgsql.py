"""The plain SQL statements inside `DO $$ ... $$` and plpgsql function bodies.

A DO block is not a wall: an `ALTER TABLE ... RENAME` inside one changes the
schema as much as one outside. libpg_query's plpgsql parser (through
`pglast.parser.parse_plpgsql_json`) gives each statement of the body; the
ones it runs as plain SQL (`PLpgSQL_stmt_execsql`, not `EXECUTE` of a built
string, which cannot be known) are parsed again as SQL and returned as
`Statement`s at their real byte offsets in the file, so rules report them
where they are written. Queries (SELECT, INSERT, UPDATE, DELETE, MERGE) are
left out: in a function they run when it is called, not when it is created,
and the rules that matter here are about DDL; so are SET, SHOW, COMMIT and
CALL, which the session and transaction rules already judge in bodies.

The statements keep the `index` of the statement that holds them, so a rule
that looks at "the statements before this one" sees the same file prefix.
"""

from __future__ import annotations

import json
from typing import Iterator

from pglast import parser as pg_parser

from mobius_sqlcheck.parse import Decoder, Parses, Statement, sql_json
from mobius_sqlcheck.source import SourceFile

HOLDERS = ("DoStmt", "CreateFunctionStmt")
# Left out: queries (in a function they run when it is called), and session and
# transaction statements, which MSC502 / MSC503 already judge inside bodies.
_LEFT_OUT = ("SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "VariableSetStmt",
             "VariableShowStmt", "TransactionStmt", "CallStmt")


def embedded_statements(statement: Statement, source: SourceFile, decode: Decoder = json.loads,
                        parses: Parses | None = None) -> list[Statement]:
    """The plain DDL statements of a DO block or plpgsql function body, in
    order; [] for anything else. `decode` and `parses` as the file was
    parsed with (`parse.parse_source`)."""
    if statement.node_type not in HOLDERS:
        return []
    options = statement.node.get("args" if statement.node_type == "DoStmt" else "options", ())
    body_option = _option(options, "as")
    language = _option(options, "language")
    language_name = language.get("arg", {}).get("String", {}).get("sval", "plpgsql") if language else "plpgsql"
    if body_option is None or language_name.lower() != "plpgsql":
        return []
    body, body_start = _body(statement, source, body_option)
    if body is None:
        return []
    try:
        tree_json = sql_json(_as_function(statement, source, body), parses, plpgsql=True)
        if '"PLpgSQL_stmt_execsql"' not in tree_json:
            return []  # no plain SQL in the body (most trigger functions): nothing to decode or walk
        tree = decode(tree_json)
    except (pg_parser.ParseError, ValueError, RecursionError):
        return []  # a body PostgreSQL would reject: MSC001 is not ours to report here
    return list(_statements(tree, body, body_start, statement.index, decode, parses))


def _option(options: list[dict], name: str) -> dict | None:
    for item in options or ():
        element = item.get("DefElem", {})
        if element.get("defname") == name:
            return element
    return None


def _body(statement: Statement, source: SourceFile, option: dict) -> tuple[str | None, int]:
    """The body text and its byte offset in the file, when it is written
    verbatim (dollar-quoted, or single-quoted without doubled quotes)."""
    arg = option.get("arg", {})
    strings = arg.get("List", {}).get("items", [arg]) if "List" in arg else [arg]
    if len(strings) != 1 or "String" not in strings[0]:
        return None, 0  # `AS 'obj_file', 'link_symbol'`: not plpgsql
    body = strings[0]["String"].get("sval", "")
    location = option.get("arg_location", -1)
    if location < 0:
        return None, 0
    quote_start = statement.base + location
    data = source.data
    if data[quote_start:quote_start + 1] == b"$":
        tag_end = data.find(b"$", quote_start + 1)
        body_start = tag_end + 1
    else:
        body_start = quote_start + 1
    encoded = body.encode("utf-8")
    if body_start <= 0 or data[body_start:body_start + len(encoded)] != encoded:
        return None, 0  # written with escapes (doubled quotes): offsets would be wrong
    return body, body_start


def _as_function(statement: Statement, source: SourceFile, body: str) -> str:
    """A CREATE FUNCTION text for the plpgsql parser (it parses nothing else)."""
    if statement.node_type == "CreateFunctionStmt":
        return source.data[statement.start:statement.end].decode("utf-8")
    tag = "$mobius_do$"
    while tag in body:
        tag = tag[:-1] + "_$"
    return f"CREATE FUNCTION mobius_do_block() RETURNS void LANGUAGE plpgsql AS {tag}{body}{tag}"


def _statements(tree: object, body: str, body_start: int, index: int, decode: Decoder,
                parses: Parses | None) -> Iterator[Statement]:
    """Walk the plpgsql tree in source order; find each plain statement's text in the body."""
    cursor = 0
    for query in _plain_queries(tree):
        at = body.find(query, cursor)
        if at < 0:
            continue
        cursor = at + len(query)
        start = body_start + len(body[:at].encode("utf-8"))
        try:
            parsed = decode(sql_json(query, parses))
        except (pg_parser.ParseError, ValueError, RecursionError):
            continue
        for raw in parsed.get("stmts", ()):
            node_type, node = next(iter(raw["stmt"].items()))
            if node_type in _LEFT_OUT:
                continue
            offset = raw.get("stmt_location", 0)
            length = raw.get("stmt_len", 0) or len(query.encode("utf-8")) - offset
            yield Statement(node_type, node, start + offset, start + offset + length, index, start)


def _plain_queries(tree: object) -> Iterator[str]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "PLpgSQL_stmt_execsql":
                expression = value.get("sqlstmt", {}).get("PLpgSQL_expr", {})
                if "query" in expression:
                    yield expression["query"]
                continue
            yield from _plain_queries(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from _plain_queries(item)

"""Statements whose effect outlives their transaction on a pooled
connection (MSC502): the session-state part of the policy. The rule's
documentation says what is reported and why."""

from __future__ import annotations

import json
import re
from typing import Iterator, NamedTuple

from pglast import Error as PglastError
from pglast import parser as pg_parser

from mobius_sqlcheck import nodes
from mobius_sqlcheck.parse import Statement
from mobius_sqlcheck.policy.base import SESSION_STATE, PolicyProblem
from mobius_sqlcheck.source import SourceFile

SESSION_LOCK_FUNCTIONS = frozenset({
    "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
    "pg_advisory_unlock", "pg_advisory_unlock_shared", "pg_advisory_unlock_all",
})
CURSOR_OPT_HOLD = 0x0020  # PostgreSQL's parsenodes.h
_FALSE_WORDS = ("false", "f", "off", "no", "n", "0")
# Cheap pre-checks on lower-cased text (substring tests are much faster than
# a case-insensitive regex) before any tree is walked or body parsed.
_CALL_WORDS = (b"advisory", b"set_config")
_BODY_WORDS = re.compile(rb"\b(?:set|reset|discard|listen|prepare|deallocate|load|temp|temporary|hold)\b")
_ASSIGNMENT = re.compile(r'^\s*[\w."\[\]]+\s*:?=\s*')


class Problem(NamedTuple):
    message: str
    location: int  # node location in the parsed text; -1 unknown
    word: str  # the text to point at inside a function body line


# -- the statement itself -------------------------------------------------------


def session_state(statement: Statement, source: SourceFile, file_mentions_calls: bool) -> Iterator[PolicyProblem]:
    """The statement's session-state problems, its function or DO body's
    too. `file_mentions_calls` (`mentions_calls(source.data)`, computed once
    per file) spares most statements the call walk."""
    for problem in statement_problems(statement.node_type, statement.node):
        yield PolicyProblem(SESSION_STATE, statement.offset(problem.location), problem.message)
    # A body is a string in the tree, so the call walk below never sees it twice.
    if statement.node_type in ("CreateFunctionStmt", "DoStmt"):
        yield from _body_findings(statement, source)
    if file_mentions_calls and mentions_calls(source.data[statement.start:statement.end]):
        for problem in call_problems(statement.node):
            yield PolicyProblem(SESSION_STATE, statement.offset(problem.location), problem.message)


def mentions_calls(data: bytes) -> bool:
    lowered = data.lower()
    return any(word in lowered for word in _CALL_WORDS)


def _may_hold_problems(text: str) -> bool:
    """Whether SQL text may hold a session-state statement or call."""
    lowered = text.encode("utf-8").lower()
    return any(word in lowered for word in _CALL_WORDS) or _BODY_WORDS.search(lowered) is not None


def statement_problems(node_type: str, node: dict) -> Iterator[Problem]:
    """Session-state problems of a statement's own kind (not its calls)."""
    if node_type == "VariableSetStmt":
        yield from _variable_set(node)
    elif node_type == "DiscardStmt":
        target = node.get("target", "DISCARD_ALL").removeprefix("DISCARD_")
        yield Problem(f"DISCARD {target} acts on the whole session, which a transaction pooler shares", -1, "DISCARD")
    elif node_type == "ListenStmt":
        yield Problem(f"LISTEN {node.get('conditionname', '')} registers the session: through a transaction "
                      "pooler notifications reach whichever client holds the server connection", -1, "LISTEN")
    elif node_type in ("PrepareStmt", "DeallocateStmt"):
        word = "PREPARE" if node_type == "PrepareStmt" else "DEALLOCATE"
        yield Problem(f"{word} works on a prepared statement of the session: through a transaction pooler the "
                      "next transaction may run on another server connection", -1, word)
    elif node_type == "LoadStmt":
        yield Problem(f"LOAD '{node.get('filename', '')}' loads a library into a server connection other "
                      "clients share", -1, "LOAD")
    elif node_type == "DeclareCursorStmt" and node.get("options", 0) & CURSOR_OPT_HOLD:
        yield Problem(f"cursor {node.get('portalname', '')} WITH HOLD outlives the transaction, and the next "
                      "transaction may run on another server connection", -1, "HOLD")
    else:
        yield from _temporary_relation(node_type, node)


def _variable_set(node: dict) -> Iterator[Problem]:
    kind = node.get("kind", "")
    name = node.get("name", "")
    if node.get("is_local") or (kind == "VAR_SET_MULTI" and name == "TRANSACTION"):
        return
    if kind in ("VAR_RESET", "VAR_RESET_ALL"):
        what = "ALL" if kind == "VAR_RESET_ALL" else name
        yield Problem(f"RESET {what} changes the session's settings, which a transaction pooler shares with "
                      "other clients", -1, "RESET")
        return
    shown = name.lower() if name.isupper() else name
    yield Problem(f"SET {shown} without LOCAL lasts for the session: through a transaction pooler it leaks to "
                  "the other clients of the server connection", -1, "SET")


def _temporary_relation(node_type: str, node: dict) -> Iterator[Problem]:
    if node_type == "CreateStmt":
        relation, on_commit, kind = node.get("relation", {}), node.get("oncommit"), "table"
    elif node_type == "CreateTableAsStmt":
        into = node.get("into", {})
        relation, on_commit, kind = into.get("rel", {}), into.get("onCommit"), "table"
    elif node_type == "ViewStmt":
        relation, on_commit, kind = node.get("view", {}), None, "view"
    elif node_type == "CreateSeqStmt":
        relation, on_commit, kind = node.get("sequence", {}), None, "sequence"
    else:
        return
    if relation.get("relpersistence") != "t" or on_commit == "ONCOMMIT_DROP":
        return
    yield Problem(f"temporary {kind} {relation.get('relname', '')} outlives the transaction"
                  f"{' (no ON COMMIT DROP)' if kind == 'table' else ''}: it stays on a server connection "
                  "other clients share", relation.get("location", -1), "TEMP")


# -- calls ------------------------------------------------------------------------


def call_problems(node: dict) -> Iterator[Problem]:
    """Session advisory locks and set_config(..., false) anywhere in a tree."""
    for node_type, body in nodes.walk(node):
        if node_type != "FuncCall":
            continue
        parts = nodes.names(body.get("funcname"))
        if not parts or (len(parts) == 2 and parts[0] != "pg_catalog"):
            continue
        name = parts[-1].lower()
        location = body.get("location", -1)
        if name in SESSION_LOCK_FUNCTIONS:
            yield Problem(_advisory_message(name), location, name)
        elif name == "set_config" and _is_session_set_config(body.get("args", [])):
            setting = nodes.const_value(body["args"][0]) if body.get("args") else None
            shown = setting if isinstance(setting, str) else "a setting"
            yield Problem(f"set_config({shown!r}, ..., false) sets it for the session: through a transaction "
                          "pooler it leaks to other clients; pass true", location, name)


def _advisory_message(name: str) -> str:
    if "unlock" in name:
        return (f"{name}() releases a session-level advisory lock, which through a transaction pooler was "
                "never exclusive; take pg_advisory_xact_lock() instead, released at commit")
    return (f"{name}() takes a session-level advisory lock: through a transaction pooler it excludes "
            f"nothing and stays held on a shared server connection; use {name.replace('advisory_', 'advisory_xact_')}()")


def _is_session_set_config(args: list[dict]) -> bool:
    """The is_local argument (third, or named) is a constant false."""
    flag = None
    for position, arg in enumerate(args):
        named = arg.get("NamedArgExpr")
        if named is not None and named.get("name") == "is_local":
            flag = named.get("arg")
        elif position == 2 and named is None:
            flag = arg
    value = nodes.const_value(flag)
    return value is False or (isinstance(value, str) and value.strip().lower() in _FALSE_WORDS)


# -- function bodies and DO blocks -------------------------------------------------


def _body_findings(statement: Statement, source: SourceFile) -> Iterator[PolicyProblem]:
    body, language, arg_location = _body(statement)
    if body is None or not _may_hold_problems(body):
        return
    where = _body_owner(statement)
    body_start = _body_offset(source, statement, body, arg_location)
    if language == "sql":
        for problem in _sql_text_problems(body):
            at = body_start + problem.location if problem.location >= 0 else body_start
            yield PolicyProblem(SESSION_STATE, at, f"{where}: {problem.message}")
    elif language == "plpgsql":
        for problem, lineno in _plpgsql_problems(_plpgsql_source(statement, source, body)):
            at = _line_offset(source, body_start, lineno, problem.word)
            yield PolicyProblem(SESSION_STATE, at, f"{where}: {problem.message}")


def _body(statement: Statement) -> tuple[str | None, str, int]:
    """(body, language, location of the body literal) of CREATE FUNCTION / DO."""
    node = statement.node
    options = node.get("options") if statement.node_type == "CreateFunctionStmt" else node.get("args")
    body, language, location = None, "plpgsql" if statement.node_type == "DoStmt" else "sql", -1
    for element in nodes.def_elems(options):
        argument = element.get("arg", {})
        if element.get("defname") == "language":
            language = argument.get("String", {}).get("sval", language).lower()
        elif element.get("defname") == "as":
            items = argument.get("List", {}).get("items") or [argument]
            body = items[0].get("String", {}).get("sval") if len(items) == 1 else None
            location = element.get("arg_location", -1)
    return body, language, location


def _body_owner(statement: Statement) -> str:
    if statement.node_type == "DoStmt":
        return "in a DO block"
    name = nodes.display(nodes.qualified(nodes.names(statement.node.get("funcname"))))
    return f"in function {name}() (it runs in its caller's session)"


def _body_offset(source: SourceFile, statement: Statement, body: str, arg_location: int) -> int:
    """Byte offset of the body's first character in the file."""
    start = statement.offset(arg_location)
    found = source.data.find(body.encode("utf-8"), start, statement.end + 1)
    return found if found != -1 else start


def _sql_text_problems(sql: str) -> Iterator[Problem]:
    """Problems of every statement in a SQL text; locations are byte offsets into it."""
    try:
        tree = json.loads(pg_parser.parse_sql_json(sql))
    except pg_parser.ParseError:
        return
    for raw in tree.get("stmts", ()):
        ((node_type, node),) = raw["stmt"].items()
        base = raw.get("stmt_location", 0)
        for problem in [*statement_problems(node_type, node), *call_problems(node)]:
            location = problem.location if problem.location >= 0 else base
            yield problem._replace(location=location)


def _plpgsql_problems(source: str) -> Iterator[tuple[Problem, int]]:
    """Problems in the SQL a PL/pgSQL function runs, with each one's line in its body."""
    try:
        functions = json.loads(pg_parser.parse_plpgsql_json(source))
    except (PglastError, ValueError):
        return
    for query, mode, lineno in _plpgsql_queries(functions, 1):
        if not _may_hold_problems(query):
            continue
        sql = _as_sql(query, mode)
        if sql is None:
            continue
        for problem in _sql_text_problems(sql):
            yield problem, lineno


def _as_sql(query: str, mode: int) -> str | None:
    """A PL/pgSQL expression as a SQL statement libpg_query can parse; parse
    modes are PostgreSQL's RawParseMode (0 statement, 1 type name, 2
    expression, 3-5 assignment)."""
    if mode == 0:
        return query
    if mode == 2:
        return "SELECT " + query
    if mode in (3, 4, 5):
        return "SELECT " + _ASSIGNMENT.sub("", query, count=1)
    return None


def _plpgsql_source(statement: Statement, source: SourceFile, body: str) -> str:
    """parse_plpgsql wants a whole CREATE FUNCTION (its parameters and return
    type are declarations the body uses); a DO block is wrapped in one.
    Line numbers are counted in the body either way."""
    if statement.node_type == "CreateFunctionStmt":
        return source.data[statement.start:statement.end].decode("utf-8", "replace")
    return f"CREATE FUNCTION mobius_do() RETURNS void LANGUAGE plpgsql AS $mobius_body${body}$mobius_body$"


def _plpgsql_queries(node: object, lineno: int) -> Iterator[tuple[str, int, int]]:
    """(query, parse mode, line) of every PLpgSQL_expr, with the line of the
    nearest statement around it."""
    if isinstance(node, list):
        for item in node:
            yield from _plpgsql_queries(item, lineno)
    elif isinstance(node, dict):
        lineno = node.get("lineno", lineno)
        expression = node.get("PLpgSQL_expr")
        if expression is not None:
            yield expression.get("query", ""), expression.get("parseMode", 0), lineno
            return
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from _plpgsql_queries(value, lineno)


def _line_offset(source: SourceFile, body_start: int, lineno: int, word: str) -> int:
    """Byte offset of `word` on line `lineno` of the body (its first
    non-blank character when the word is not there)."""
    data = source.data
    line_start = body_start
    for _ in range(max(lineno, 1) - 1):
        newline = data.find(b"\n", line_start)
        if newline == -1:
            break
        line_start = newline + 1
    line_end = data.find(b"\n", line_start)
    line = data[line_start:line_end if line_end != -1 else len(data)]
    at = line.lower().find(word.lower().encode("utf-8"))
    if at == -1:
        at = len(line) - len(line.lstrip())
    return line_start + at

"""Parse a SourceFile into statements with exact spans, using libpg_query.

We keep libpg_query's JSON tree as plain dicts (`parse_sql_json` + `json.loads`)
rather than pglast's AST objects: building the objects costs about 20 times
the parse itself, and the rules only look at a few fields of a few nodes.

A statement node looks like `{"CreateStmt": {...fields...}}`; `Statement`
unwraps it into `node_type` and `node`. Offsets are bytes into
`SourceFile.data`, the same unit libpg_query uses.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import NamedTuple

from pglast import parser as pg_parser

from mobius_sqlcheck.source import SourceFile, skip_trivia

# A psql meta-command starts with a backslash at the beginning of a line.
_META_LINE = re.compile(r"^[ \t]*\\", re.MULTILINE)
# A dollar-quote tag, e.g. `$body$` or `$été$`.
_DOLLAR_TAG = re.compile(r"\$[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*\$")
# Each non-ASCII character becomes one `q` (see `scan`).
codecs.register_error("mobius-sqlcheck-q", lambda error: ("q" * (error.end - error.start), error.end))

_NEAR_TEXT = 40  # characters of the text quoted in a syntax error

TOO_DEEP = ("statement nested too deeply to be checked (hundreds of levels of sub-selects, calls, "
            "brackets or chained operators)")


class Statement(NamedTuple):
    node_type: str
    node: dict
    start: int  # byte offset of the first token
    end: int  # byte offset just past the statement text (before `;`)
    index: int
    base: int = 0  # add to a node's `location` to get its offset in the file

    def offset(self, node_location: int) -> int:
        """File byte offset of a node location (-1, unknown: the statement's start)."""
        return self.base + node_location if node_location >= 0 else self.start


class ParseProblem(NamedTuple):
    """A syntax error (MSC001) or psql meta-command (MSC505) at a byte offset."""

    code: str
    offset: int
    end: int
    message: str


class ParsedFile:
    __slots__ = ("source", "statements", "problems")

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.statements: list[Statement] = []
        self.problems: list[ParseProblem] = []


def scan(text: str) -> list[pg_parser.Token]:
    """libpg_query's tokens, with character offsets, like `pglast.parser.scan`.

    pglast maps each token's byte offset to a character index by a linear
    search over the multi-byte characters after it: quadratic in a long
    non-ASCII file (a 1 MB migration with Cyrillic comments takes minutes).
    So a non-ASCII text is scanned with each non-ASCII character replaced by
    `q`: the character offsets stay the same, and the lexer sees the same
    tokens, because to it both are just identifier characters (or content of
    a string, comment or body). `q` starts no special literal (E'', X'', U&'',
    0x1F...). Two cases where the tokens could differ fall back to the slow
    scan: a non-ASCII dollar-quote tag (`$é$` and `$ü$` would both become
    `$q$`) and a word that the replacement turns into a keyword.
    """
    if text.isascii() or any(not tag.isascii() for tag in _DOLLAR_TAG.findall(text)):
        return pg_parser.scan(text)
    tokens = pg_parser.scan(text.encode("ascii", "mobius-sqlcheck-q").decode("ascii"))
    for token in tokens:
        if token.kind != "NO_KEYWORD" and not text[token.start:token.end + 1].isascii():
            return pg_parser.scan(text)
    return tokens


def nesting_depth(node: object) -> int:
    """How deeply a parse tree (plain dicts and lists) is nested."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        children = current.values() if isinstance(current, dict) else current
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def parse_source(source: SourceFile) -> ParsedFile:
    parsed = ParsedFile(source)
    text = source.text
    if "\\" in text and _META_LINE.search(text):
        text = _blank_meta_commands(source, parsed.problems)
    try:
        tree = _parse_tree(text)
    except (pg_parser.ParseError, RecursionError) as error:
        _parse_statement_by_statement(source, text, parsed)
        if not any(p.code == "MSC001" for p in parsed.problems):
            parsed.problems.append(_problem(text, 0, error))
        return parsed
    parsed.statements = _statements_from_tree(tree, source.data, 0, len(source.data), 0)
    return parsed


def _parse_tree(text: str) -> dict:
    """libpg_query's tree as plain dicts. Raises ParseError, or RecursionError
    for a statement nested deeper than Python can decode (libpg_query itself
    accepts a few thousand levels of sub-selects or function calls)."""
    return json.loads(pg_parser.parse_sql_json(text))


def _statements_from_tree(tree: dict, data: bytes, base: int, limit: int, first_index: int) -> list[Statement]:
    """Turn libpg_query's raw statements into Statements; the parsed text is
    `data[base:limit]`."""
    statements = []
    raw_statements = tree.get("stmts", ())
    for index, raw in enumerate(raw_statements, first_index):
        location = base + raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0)
        end = _trim_end(data, location + length) if length else _end_of_text(data, limit)
        ((node_type, node),) = raw["stmt"].items()
        start = skip_trivia(data, location)
        statements.append(Statement(node_type, node, start, max(start, end), index, base))
    return statements


def _trim_end(data: bytes, end: int) -> int:
    while end > 0 and data[end - 1] in b" \t\r\n":
        end -= 1
    return end


def _end_of_text(data: bytes, end: int) -> int:
    """libpg_query gives the last statement no length: it runs to the end of
    the text, less trailing white space and `;`."""
    while end > 0 and data[end - 1] in b" \t\r\n;":
        end -= 1
    return end


def _blank_meta_commands(source: SourceFile, problems: list[ParseProblem]) -> str:
    """Replace each psql meta-command line with spaces of the same byte length,
    so libpg_query can parse the rest and every offset stays true."""
    text = source.text
    starts = _meta_command_starts(text)
    if not starts:
        return text
    pieces = []
    previous = 0
    for start in starts:
        newline = text.find("\n", start)
        stop = len(text) if newline == -1 else newline
        line = text[start:stop]
        byte_start = source.byte_offset_of_char(start)
        command = line.split(None, 1)[0]
        problems.append(ParseProblem("MSC505", byte_start, byte_start + len(line.rstrip().encode()),
                                     f"psql meta-command `{command}` cannot be run by a database driver"))
        pieces.append(text[previous:start])
        pieces.append(" " * len(line.encode("utf-8")))
        previous = stop
    pieces.append(text[previous:])
    # The blanked text may be longer in characters but is equal in bytes.
    return "".join(pieces)


def _meta_command_starts(text: str) -> list[int]:
    """Character offsets of backslashes that begin a psql meta-command: at the
    start of a line and not inside a string, comment or dollar-quoted body."""
    candidates = [m.end() - 1 for m in _META_LINE.finditer(text)]
    try:
        tokens = scan(text)
    except pg_parser.Error:
        return candidates
    backslash_tokens = {token.start for token in tokens if token.name == "ASCII_92"}
    return [offset for offset in candidates if offset in backslash_tokens]


def _parse_statement_by_statement(source: SourceFile, text: str, parsed: ParsedFile) -> None:
    """After a syntax error, parse each statement on its own so that the
    others are still linted and every error gets its own position."""
    pieces = _split_on_semicolons(text)
    # The scanner reports character offsets; keep a running byte offset.
    char_cursor = 0
    byte_cursor = 0
    for char_start, char_end in pieces:
        byte_cursor += len(text[char_cursor:char_start].encode("utf-8"))
        char_cursor = char_start
        piece = text[char_start:char_end]
        try:
            tree = _parse_tree(piece)
        except (pg_parser.ParseError, RecursionError) as error:
            parsed.problems.append(_problem(piece, byte_cursor, error))
            continue
        limit = byte_cursor + len(piece.encode("utf-8"))
        parsed.statements.extend(
            _statements_from_tree(tree, source.data, byte_cursor, limit, len(parsed.statements))
        )


def _split_on_semicolons(text: str) -> list[tuple[int, int]]:
    """Character spans of the statements, split at `;` tokens (a `;` inside a
    string, comment or dollar-quoted body is part of that token)."""
    try:
        tokens = scan(text)
    except pg_parser.Error:
        return []
    spans = []
    start = None
    for token in tokens:
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        if token.name == "ASCII_59":
            if start is not None:
                spans.append((start, token.start + 1))
            start = None
        elif start is None:
            start = token.start
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _problem(text: str, byte_base: int, error: pg_parser.ParseError | RecursionError) -> ParseProblem:
    if isinstance(error, RecursionError):
        offset = byte_base + len(text[:len(text) - len(text.lstrip())].encode("utf-8"))
        return ParseProblem("MSC001", offset, offset, TOO_DEEP)
    return _syntax_problem(text, byte_base, error)


def _syntax_problem(text: str, byte_base: int, error: pg_parser.ParseError) -> ParseProblem:
    message = error.args[0] if error.args else str(error)
    char_location = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
    char_location = max(0, min(char_location, len(text)))
    if message.endswith("at end of input"):
        char_location = len(text.rstrip())
    offset = byte_base + len(text[:char_location].encode("utf-8"))
    return ParseProblem("MSC001", offset, offset, _short_message(message))


def _short_message(message: str) -> str:
    """libpg_query quotes the rest of the text after `at or near`: for an
    unterminated string that is the rest of the file. Keep its first line,
    at most _NEAR_TEXT characters, so a diagnostic stays one line."""
    head, sep, near = message.partition(' at or near "')
    if not sep:
        return " ".join(message.split("\n"))
    near = near[:-1] if near.endswith('"') else near
    first_line = near.split("\n", 1)[0].rstrip("\r")
    if len(first_line) > _NEAR_TEXT or first_line != near:
        first_line = first_line[:_NEAR_TEXT] + "..."
    return f'{head}{sep}{first_line}"'


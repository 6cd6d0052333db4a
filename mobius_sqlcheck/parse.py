"""Parse a SourceFile into statements with exact spans, using libpg_query.

We keep libpg_query's JSON tree as plain dicts (`parse_sql_json` + orjson)
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
from functools import lru_cache
from typing import Any, Callable, Literal, NamedTuple

from pglast import Error as PglastError
from pglast import parser as pg_parser

from mobius_sqlcheck.diagnostics import redacted
from mobius_sqlcheck.source import SourceFile, skip_trivia

# A psql meta-command starts with a backslash at the beginning of a line.
_META_LINE = re.compile(r"^[ \t]*\\", re.MULTILINE)
# Each non-ASCII character becomes one `q` (see `scan`).
def _as_q(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "q" * (error.end - error.start), error.end


codecs.register_error("mobius-sqlcheck-q", _as_q)

_NEAR_TEXT = 40  # characters of the text quoted in a syntax error

TOO_DEEP = ("statement nested too deeply to be checked (hundreds of levels of sub-selects, calls, "
            "brackets or chained operators)")


class Statement(NamedTuple):
    node_type: str
    node: dict
    start: int  # byte offset of the first token
    end: int  # byte offset just past the statement text (before `;`)
    index: int  # type: ignore[assignment]  # a field, shadowing tuple.index (never called on a Statement)
    base: int = 0  # add to a node's `location` to get its offset in the file

    def offset(self, node_location: int) -> int:
        """File byte offset of a node location (-1, unknown: the statement's start)."""
        return self.base + node_location if node_location >= 0 else self.start


ProblemKind = Literal["syntax", "psql-meta-command"]


class ParseProblem(NamedTuple):
    """A syntax error or psql-only input at a byte offset. Parsing knows no
    rules: the lint pipeline reports these as findings (MSC001, MSC505)."""

    kind: ProblemKind
    offset: int
    end: int
    message: str
    hint: str | None = None  # None: the rule's own hint


# libpg_query's JSON of each text parsed for one file, by what was parsed: a
# worker process of the lint pipeline records them, and the main process
# parses the file again from them instead of from its text.
Parses = dict[str, str]


class ParsedFile:
    __slots__ = ("source", "statements", "problems", "decode", "parses")

    def __init__(self, source: SourceFile, decode: Decoder = json.loads, parses: Parses | None = None) -> None:
        self.source = source
        self.statements: list[Statement] = []
        self.problems: list[ParseProblem] = []
        self.decode = decode  # for the bodies parsed later (plpgsql), as the file was
        self.parses = parses


def sql_json(text: str, parses: Parses | None = None, plpgsql: bool = False) -> str:
    """libpg_query's JSON for `text` (SQL, or a CREATE FUNCTION for the
    plpgsql parser), from `parses` when it is there, recorded in it when not."""
    parser = pg_parser.parse_plpgsql_json if plpgsql else pg_parser.parse_sql_json
    if parses is None:
        return parser(text)
    key = "\x00plpgsql\x00" + text if plpgsql else text  # the two parsers' inputs never collide
    found = parses.get(key)
    if found is None:
        found = parses[key] = parser(text)
    return found


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
    if text.isascii() or any(not tag.isascii() for tag in _dollar_tag().findall(text)):
        return pg_parser.scan(text)
    tokens = pg_parser.scan(text.encode("ascii", "mobius-sqlcheck-q").decode("ascii"))
    for token in tokens:
        if token.kind != "NO_KEYWORD" and not text[token.start:token.end + 1].isascii():
            return pg_parser.scan(text)
    return tokens


@lru_cache(maxsize=1)
def _dollar_tag() -> re.Pattern[str]:
    """A dollar-quote tag, e.g. `$body$` or `$été$`. Compiled on first use:
    the Unicode ranges take ~7 ms, and only non-ASCII files need it."""
    return re.compile(r"\$[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*\$")


Decoder = Callable[[str], dict]


def fast_decoder() -> Decoder:
    """orjson decodes libpg_query's JSON about twice as fast as json.loads,
    but importing it costs ~20 ms (it imports dataclasses and more): worth it
    for a long history, not for the one-file hook run."""
    import orjson

    def decode(data: str) -> dict:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as error:
            # libpg_query's JSON is always well-formed: the one failure is depth.
            raise RecursionError(str(error)) from None

    return decode


def nesting_depth(node: object) -> int:
    """How deeply a parse tree (plain dicts and lists) is nested."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        children = current.values() if isinstance(current, dict) else current
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def parse_source(source: SourceFile, decode: Decoder = json.loads, parses: Parses | None = None) -> ParsedFile:
    parsed = ParsedFile(source, decode, parses)
    text = _blank_psql_only(source.text, parsed.problems)
    try:
        tree = _parse_tree(text, decode, parses)
    except (pg_parser.ParseError, RecursionError) as error:
        _parse_statement_by_statement(source, text, parsed, decode, parses)
        if not any(p.kind == "syntax" for p in parsed.problems):
            parsed.problems.append(_problem(text, 0, error))
        return parsed
    parsed.statements = _statements_from_tree(tree, source.data, 0, len(source.data), 0)
    return parsed


def _parse_tree(text: str, decode: Decoder, parses: Parses | None = None) -> dict:
    """libpg_query's tree as plain dicts. Raises ParseError, or RecursionError
    for a statement nested deeper than Python can decode (libpg_query itself
    accepts a few thousand levels of sub-selects or function calls)."""
    return decode(sql_json(text, parses))


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


def _blank_psql_only(text: str, problems: list[ParseProblem]) -> str:
    """What only psql understands, blanked out so that libpg_query parses the
    rest: the inline rows of COPY ... FROM STDIN, then meta-command lines.
    Blanked means spaces of the same byte length, newlines kept: every byte
    offset stays true (the text may get longer in characters)."""
    # STDIN is a keyword only in ASCII (any case): `in lower()` is a cheap
    # filter; the regex, with IGNORECASE, costs ~70 us on every file.
    if "stdin" in text.lower() and _STDIN.search(text):
        text = _blank_copy_data(text, problems)
    if "\\" in text and _META_LINE.search(text):
        text = _blank_meta_commands(text, problems)
    return text


def _blank(text: str, regions: list[tuple[int, int]]) -> str:
    pieces = []
    previous = 0
    for start, stop in regions:
        pieces.append(text[previous:start])
        pieces.append("\n".join(" " * len(line.encode("utf-8")) for line in text[start:stop].split("\n")))
        previous = stop
    pieces.append(text[previous:])
    return "".join(pieces)


class _ByteOffsets:
    """Byte offsets of character offsets of one text, asked in ascending order."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.char = 0
        self.byte = 0

    def __call__(self, char_offset: int) -> int:
        self.byte += len(self.text[self.char:char_offset].encode("utf-8"))
        self.char = char_offset
        return self.byte


def _blank_meta_commands(text: str, problems: list[ParseProblem]) -> str:
    """Report and blank each psql meta-command line."""
    starts = _meta_command_starts(text)
    byte_offset = _ByteOffsets(text)
    regions = []
    for start in starts:
        newline = text.find("\n", start)
        stop = len(text) if newline == -1 else newline
        line = text[start:stop]
        byte_start = byte_offset(start)
        command = line.split(None, 1)[0]
        problems.append(ParseProblem("psql-meta-command", byte_start, byte_start + len(line.rstrip().encode()),
                                     f"psql meta-command `{command}` cannot be run by a database driver"))
        regions.append((start, stop))
    return _blank(text, regions) if regions else text


_STDIN = re.compile(r"\bstdin\b", re.IGNORECASE)
_END_OF_COPY_DATA = re.compile(r"^\\\.[ \t]*\r?$\n?", re.MULTILINE)
_COPY_HINT = ("Load the rows with INSERT ... VALUES (or COPY from a file the database server can read); "
              "the applier runs each statement through a driver, not psql.")


def _blank_copy_data(text: str, problems: list[ParseProblem]) -> str:
    """Report each COPY ... FROM STDIN and blank the rows psql would send it:
    the lines after the statement, up to a line `\\.` (or the end of the file)."""
    regions = []
    byte_offset = _ByteOffsets(text)
    position = 0  # where the lexer is in its initial state: the start, or just after a block of rows
    for match in _STDIN.finditer(text):
        if match.start() < position:
            continue  # inside rows already blanked
        copy = _copy_from_stdin(text, position, match.end())
        if copy is None:
            continue
        copy_start, semicolon = copy
        newline = text.find("\n", semicolon)
        data_start = len(text) if newline == -1 else newline + 1
        end_mark = _END_OF_COPY_DATA.search(text, data_start)
        position = len(text) if end_mark is None else end_mark.end()
        rows = text[data_start:position]
        count = rows.count("\n") + (1 if rows and not rows.endswith("\n") else 0) - (0 if end_mark is None else 1)
        problems.append(ParseProblem(
            "psql-meta-command", byte_offset(copy_start), byte_offset(semicolon),
            f"COPY ... FROM STDIN with {count} inline row(s): only psql sends them; "
            f"a database driver cannot run it", _COPY_HINT))
        regions.append((data_start, position))
    return _blank(text, regions) if regions else text


def _copy_from_stdin(text: str, start: int, after: int) -> tuple[int, int] | None:
    """(first token, end of `;`) of a COPY ... FROM STDIN statement whose
    STDIN ends at `after`, scanning from `start`; None if it is not one."""
    end = text.find("\n", after)
    for _ in range(50):  # the `;` may be a few lines further: FROM STDIN WITH (...);
        end = len(text) if end == -1 else end
        try:
            tokens = scan(text[start:end])
        except PglastError:
            return None
        statement: list[pg_parser.Token] = []
        for token in tokens:
            if token.name in ("SQL_COMMENT", "C_COMMENT"):
                continue
            if token.name != "ASCII_59":
                statement.append(token)
                continue
            if start + token.start >= after:
                return _if_copy_from_stdin(statement, start, start + token.end + 1)
            statement = []
        if end == len(text) or not _is_copy(statement):
            return None
        end = text.find("\n", end + 1)
    return None


def _is_copy(statement: list[pg_parser.Token]) -> bool:
    return bool(statement) and statement[0].name == "COPY"


def _if_copy_from_stdin(statement: list[pg_parser.Token], base: int, semicolon: int) -> tuple[int, int] | None:
    names = [token.name for token in statement]
    if not _is_copy(statement) or "STDIN" not in names or "FROM" not in names:
        return None
    if names.index("FROM") > names.index("STDIN"):
        return None
    return base + statement[0].start, semicolon


def _meta_command_starts(text: str) -> list[int]:
    """Character offsets of backslashes that begin a psql meta-command: at the
    start of a line and not inside a string, comment or dollar-quoted body."""
    candidates = [m.end() - 1 for m in _META_LINE.finditer(text)]
    try:
        tokens = scan(text)
    except PglastError:
        return candidates
    backslash_tokens = {token.start for token in tokens if token.name == "ASCII_92"}
    return [offset for offset in candidates if offset in backslash_tokens]


def _parse_statement_by_statement(source: SourceFile, text: str, parsed: ParsedFile,
                                  decode: Decoder = json.loads, parses: Parses | None = None) -> None:
    """After a syntax error, parse each statement on its own so that the
    others are still linted and every error gets its own position."""
    byte_offset = _ByteOffsets(text)  # the scanner reports character offsets
    for char_start, char_end in _split_on_semicolons(text):
        byte_cursor = byte_offset(char_start)
        piece = text[char_start:char_end]
        try:
            tree = _parse_tree(piece, decode, parses)
        except (pg_parser.ParseError, RecursionError) as error:
            parsed.problems.append(_problem(piece, byte_cursor, error))
            continue
        limit = byte_cursor + len(piece.encode("utf-8"))
        parsed.statements.extend(
            _statements_from_tree(tree, source.data, byte_cursor, limit, len(parsed.statements))
        )


def _split_on_semicolons(text: str) -> list[tuple[int, int]]:
    """Character spans of the statements, split at `;` tokens (a `;` inside a
    string, comment or dollar-quoted body is part of that token), as psql
    splits them: not inside the BEGIN ... END of CREATE FUNCTION / PROCEDURE
    ... BEGIN ATOMIC. Where the scanner fails (an unterminated string or
    comment), the text before it is split and the rest is one last piece."""
    limit = len(text)
    try:
        tokens = scan(text)
    except PglastError as error:
        limit = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
        try:
            tokens = scan(text[:limit])
        except PglastError:
            return [(0, len(text))]
    spans = []
    statement: list[str] = []  # token names of the statement so far
    start = None
    begin_depth = paren_depth = 0
    for token in tokens:
        name = token.name
        if name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        if name == "ASCII_59" and begin_depth == 0:
            if start is not None:
                spans.append((start, token.start + 1))
            start = None
            statement = []
            paren_depth = 0
            continue
        if start is None:
            start = token.start
        statement.append(name)
        paren_depth += {"ASCII_40": 1, "ASCII_41": -1}.get(name, 0)
        if paren_depth == 0 and _creates_routine(statement):
            if name == "BEGIN_P" or (name == "CASE" and begin_depth > 0):
                begin_depth += 1
            elif name == "END_P" and begin_depth > 0:
                begin_depth -= 1
    if start is not None:
        spans.append((start, limit))
    if limit < len(text):
        spans.append((spans.pop()[0] if spans and spans[-1][1] == limit else limit, len(text)))
    return spans


def _creates_routine(names: list[str]) -> bool:
    """CREATE [OR REPLACE] FUNCTION | PROCEDURE (psql's test for BEGIN ATOMIC)."""
    if len(names) < 2 or names[0] != "CREATE":
        return False
    kind = names[3] if names[1:3] == ["OR", "REPLACE"] and len(names) > 3 else names[1]
    return kind in ("FUNCTION", "PROCEDURE")


def _problem(text: str, byte_base: int, error: pg_parser.ParseError | RecursionError) -> ParseProblem:
    if isinstance(error, RecursionError):
        offset = byte_base + len(text[:len(text) - len(text.lstrip())].encode("utf-8"))
        return ParseProblem("syntax", offset, offset, TOO_DEEP)
    return _syntax_problem(text, byte_base, error)


def _syntax_problem(text: str, byte_base: int, error: pg_parser.ParseError) -> ParseProblem:
    message = error.args[0] if error.args else str(error)
    char_location = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
    char_location = max(0, min(char_location, len(text)))
    if message.endswith("at end of input"):
        char_location = len(text.rstrip())
    offset = byte_base + len(text[:char_location].encode("utf-8"))
    return ParseProblem("syntax", offset, offset, _short_message(message))


def _short_message(message: str) -> str:
    """libpg_query quotes the rest of the text after `at or near`: for an
    unterminated string that is the rest of the file. Keep its first line,
    at most _NEAR_TEXT characters, so a diagnostic stays one line."""
    head, sep, near = message.partition(' at or near "')
    if not sep:
        return " ".join(message.split("\n"))
    near = redacted(near[:-1] if near.endswith('"') else near)  # before cutting a URL's password in two
    first_line = near.split("\n", 1)[0].rstrip("\r")
    if len(first_line) > _NEAR_TEXT or first_line != near:
        first_line = first_line[:_NEAR_TEXT] + "..."
    return f'{head}{sep}{first_line}"'


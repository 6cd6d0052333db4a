"""Suppression comments:

    -- mobius-sqlcheck: ignore MSC301, MSC302  <reason>
    -- mobius-sqlcheck: ignore-file MSC201  <reason>

`ignore` covers the statement on the same line, or else the next statement;
`ignore-file` covers the whole file. Anything after the codes is the reason.
A suppression that suppresses nothing, or names an unknown rule, is reported
as MSC009.

In a file that is not SQL (`.env`, YAML, TOML, Python, shell, Markdown, JS),
the same words follow that file's own comment marker (`#`, `//`, `<!--`);
`ignore` covers the line it ends, or the next line when it stands alone:

    # mobius-sqlcheck: ignore MSC501 the staging database has no pooler
    STAGING_URL=postgresql://app:***@staging.internal:5432/app
"""

from __future__ import annotations

import re

from pglast import Error as PglastError

from mobius_sqlcheck.parse import Statement, scan
from mobius_sqlcheck.source import SourceFile

_DIRECTIVE = re.compile(
    r"--[ \t]*mobius-sqlcheck:[ \t]*(?P<kind>ignore-file|ignore)\b[ \t]*"
    r"(?P<codes>[A-Za-z]+[0-9]+(?:[ \t]*,?[ \t]*[A-Za-z]+[0-9]+)*)?"
)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")
_TEXT_DIRECTIVE = re.compile(
    r"(?:#|//|<!--)[ \t]*mobius-sqlcheck:[ \t]*(?P<kind>ignore-file|ignore)\b[ \t]*"
    r"(?P<codes>[A-Za-z]+[0-9]+(?:[ \t]*,?[ \t]*[A-Za-z]+[0-9]+)*)?"
)


class Suppression:
    def __init__(self, codes: list[str], offset: int, whole_file: bool,
                 span: tuple[int, int] | None = None) -> None:
        self.codes = codes
        self.offset = offset  # byte offset of the comment
        self.whole_file = whole_file
        self.span = span  # the statement covered, in bytes

    def covers(self, code: str, offset: int) -> bool:
        if code not in self.codes:
            return False
        if self.whole_file:
            return True
        return self.span is not None and self.span[0] <= offset <= self.span[1]


def find_suppressions(source: SourceFile, statements: list[Statement]) -> list[Suppression]:
    if "mobius-sqlcheck:" not in source.text:
        return []
    matches = list(_DIRECTIVE.finditer(source.text))
    if not matches:
        return []
    comment_starts = _comment_starts(source.text)
    found = []
    for match in matches:
        if comment_starts is not None and match.start() not in comment_starts:
            continue  # the text is inside a string literal or a body, not a comment
        offset = source.byte_offset_of_char(match.start())
        codes = [code.upper() for code in _CODE.findall(match["codes"] or "")]
        whole_file = match["kind"] == "ignore-file"
        span = None if whole_file else _covered_statement(source, statements, offset)
        found.append(Suppression(codes, offset, whole_file, span))
    return found


def _comment_starts(text: str) -> set[int] | None:
    """Character offsets where `--` comments start; None if the scanner fails."""
    try:
        return {token.start for token in scan(text) if token.name == "SQL_COMMENT"}
    except PglastError:
        return None


def _covered_statement(source: SourceFile, statements: list[Statement], offset: int) -> tuple[int, int] | None:
    """The statement that ends on the comment's line before it, else the next one."""
    line = source.position(offset).line
    following = None
    for statement in statements:
        if statement.start < offset <= statement.end + 1 or (
            statement.end <= offset and source.position(statement.end).line == line
        ):
            return (statement.start, statement.end)
        if statement.start > offset:
            following = (statement.start, statement.end)
            break
    return following


def find_text_suppressions(source: SourceFile) -> list[Suppression]:
    """Suppressions in a file that is not SQL: after `#`, `//` or `<!--`,
    covering their line, the next one too when alone on theirs, or the file."""
    text = source.text
    if "mobius-sqlcheck:" not in text:
        return []
    found = []
    for match in _TEXT_DIRECTIVE.finditer(text):
        codes = [code.upper() for code in _CODE.findall(match["codes"] or "")]
        whole_file = match["kind"] == "ignore-file"
        line_start = text.rfind("\n", 0, match.start()) + 1
        end = _line_end(text, match.start())
        if not text[line_start:match.start()].strip():  # alone on its line: the next line too
            end = _line_end(text, end + 1)
        span = None if whole_file else (source.byte_offset_of_char(line_start), source.byte_offset_of_char(end))
        found.append(Suppression(codes, source.byte_offset_of_char(match.start()), whole_file, span))
    return found


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", min(position, len(text)))
    return len(text) if end == -1 else end

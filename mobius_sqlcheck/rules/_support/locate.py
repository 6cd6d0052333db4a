"""Finding the exact place of a name inside a statement.

libpg_query records no location for some names (an index's or trigger's
name); rules point at the name itself by searching the statement's text.
"""

from __future__ import annotations

from mobius_sqlcheck.parse import Statement
from mobius_sqlcheck.source import SourceFile


def name_span(source: SourceFile, statement: Statement, name: str, after: int | None = None) -> tuple[int, int]:
    """Byte span of `name` (case-insensitively, quoted or not) in the
    statement, searching from `after`; the statement's first token if absent."""
    needle = name.lower().encode("utf-8")
    begin = statement.start if after is None else max(after, statement.start)
    haystack = source.data[begin:statement.end].lower()
    at = haystack.find(needle)
    if at == -1:
        return statement.start, statement.start
    return begin + at, begin + at + len(needle)

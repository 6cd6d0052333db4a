"""Identifiers as written in the file, from libpg_query's scanner.

The parse tree already holds identifiers folded to lower case and truncated
to 63 bytes, so rules about how an identifier is *written* read the tokens.
Scanning is as costly as parsing, so callers pre-filter with a cheap regex.
"""

from __future__ import annotations

from typing import NamedTuple

from pglast import Error as PglastError

from mobius_sqlcheck.parse import scan
from mobius_sqlcheck.source import SourceFile


class Identifier(NamedTuple):
    text: str  # as written, quotes included
    name: str  # as PostgreSQL sees it (before truncation)
    quoted: bool
    start: int  # byte offsets into the file
    end: int


def identifiers(source: SourceFile) -> list[Identifier]:
    try:
        tokens = scan(source.text)
    except PglastError:
        return []
    found = []
    for token in tokens:
        if token.name != "IDENT":
            continue
        text = source.text[token.start:token.end + 1]
        quoted = text.startswith('"')
        name = text[1:-1].replace('""', '"') if quoted else text.lower()
        start = source.byte_offset_of_char(token.start)
        found.append(Identifier(text, name, quoted, start, start + len(text.encode("utf-8"))))
    return found

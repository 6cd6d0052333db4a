"""What a fix is, and what it is computed from."""

from __future__ import annotations

import os
import re
import time
from typing import NamedTuple

from mobius_sqlcheck.migrations import MigrationSet, classify_filename
from mobius_sqlcheck.parse import ParsedFile, Statement
from mobius_sqlcheck.source import SourceFile


class Edit(NamedTuple):
    """Replace text[start:end] (character offsets) of the file at `path`."""

    path: str
    start: int
    end: int
    text: str


class NewFile(NamedTuple):
    path: str
    text: str


class Fix(NamedTuple):
    title: str
    code: str  # the rule it fixes
    edits: tuple[Edit, ...]
    new_files: tuple[NewFile, ...] = ()
    # Applied by `lint --fix`: the rewrite keeps what the statement means
    # (a suppression comment or a choice between two rewrites is the user's).
    mechanical: bool = False


class FixContext(NamedTuple):
    """A finding, with the file it is in and that file's migrations directory."""

    code: str
    source: SourceFile
    parsed: ParsedFile
    offset: int  # byte offset of the finding
    statement: Statement | None  # the statement the finding is in
    migration_set: MigrationSet | None
    taken_versions: frozenset[str] = frozenset()  # versions already used by other new files of this run
    # False for a rule that judges a whole file or directory (its finding is
    # not inside a statement): its suppression must cover the file.
    statement_scope: bool = True

    @property
    def text(self) -> str:
        return self.source.text

    def char(self, byte_offset: int) -> int:
        """The character offset of a byte offset of this file."""
        return len(self.source.data[:byte_offset].decode("utf-8", "replace"))


def statement_at(parsed: ParsedFile, offset: int) -> Statement | None:
    """The statement whose text holds the byte `offset` (its end included)."""
    for statement in parsed.statements:
        if statement.start <= offset <= statement.end:
            return statement
    return None


def apply_edits(text: str, edits: list[Edit]) -> str:
    """`text` with the edits (of one file, not overlapping) applied."""
    # From the end back, so earlier offsets stay true; of two inserts at one
    # place the first given ends up first.
    ordered = sorted(enumerate(edits), key=lambda item: (item[1].start, item[1].end, item[0]), reverse=True)
    for _, edit in ordered:
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text


def line_start(text: str, at: int) -> int:
    return text.rfind("\n", 0, at) + 1


def indentation(text: str, at: int) -> str:
    """The leading blanks of the line holding character `at`."""
    start = line_start(text, at)
    return text[start:len(text[start:]) - len(text[start:].lstrip(" \t")) + start]


def statement_with_terminator(context: FixContext, statement: Statement) -> tuple[int, int]:
    """Character span of a statement from its line's start through its `;`
    and the end of that line (what moving it to another file removes)."""
    text = context.text
    start = line_start(text, context.char(statement.start))
    end = context.char(statement.end)
    match = re.compile(r"[ \t]*;?[ \t]*(?:--[^\n]*)?\n?").match(text, end)
    return start, match.end() if match else end


_SLUG = re.compile(r"[^a-z0-9]+")


def new_migration_path(context: FixContext, what: str) -> str:
    """A path for a new migration that applies after every file of the
    directory: the next version in the directory's style (a timestamp stays
    a timestamp), named `<version>_<what>.sql`."""
    migration_set = context.migration_set
    directory = migration_set.directory if migration_set is not None else os.path.dirname(context.source.path)
    versions = [m.version for m in migration_set.forwards] if migration_set is not None else []
    mine = classify_filename(context.source.path)
    if mine is not None and not mine.is_rollback:
        versions.append(mine.version)
    versions.extend(context.taken_versions)
    newest = max(versions, key=int, default="000")
    if len(newest) == 14:  # YYYYMMDDHHMMSS, as the Supabase CLI names them
        number = max(int(newest) + 1, int(time.strftime("%Y%m%d%H%M%S", time.gmtime())))
    else:
        number = int(newest) + 1
    slug = _SLUG.sub("_", what.lower()).strip("_")[:60] or "migration"
    return os.path.join(directory or ".", f"{str(number).zfill(len(newest))}_{slug}.sql")


_PLAIN_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]*$")


def quote_identifier(name: str) -> str:
    return name if _PLAIN_IDENTIFIER.match(name) else '"' + name.replace('"', '""') + '"'


def relation_sql(range_var: dict) -> str:
    """A RangeVar as SQL text (quoted where needed)."""
    parts = [range_var[part] for part in ("schemaname", "relname") if range_var.get(part)]
    return ".".join(quote_identifier(part) for part in parts)


def char_offset(text: str, line: int, column: int) -> int:
    """The character offset of a 1-based line and character column."""
    at = 0
    for _ in range(line - 1):
        found = text.find("\n", at)
        if found == -1:
            return len(text)
        at = found + 1
    return min(at + column - 1, len(text))


def context_for(code: str, source: SourceFile, parsed: ParsedFile, line: int, column: int,
                migration_set: MigrationSet | None, taken_versions: frozenset[str] = frozenset(),
                statement_scope: bool = True) -> FixContext:
    """The fix context of a finding reported at a line and column of `source`."""
    offset = source.byte_offset_of_char(char_offset(source.text, line, column))
    statement = statement_at(parsed, offset)
    return FixContext(code, source, parsed, offset, statement, migration_set, taken_versions, statement_scope)

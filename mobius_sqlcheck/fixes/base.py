"""What a fix is, and what it is computed from."""

from __future__ import annotations

import os
import re
from types import ModuleType
from typing import NamedTuple

from mobius_sqlcheck.config import Config
from mobius_sqlcheck.layouts import Change, Options, Script, all_layouts
from mobius_sqlcheck.migrations import MigrationFile, MigrationSet
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
    version: str = ""  # the migration version it takes (so a second new migration of the run takes the next)


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
    config: Config | None = None  # rollbacks directory, require_rollback

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
    return statement_span(context.source, statement)


def statement_span(source: SourceFile, statement: Statement) -> tuple[int, int]:
    """`statement_with_terminator` in any file."""
    text = source.text
    start = line_start(text, _char(source, statement.start))
    end = _char(source, statement.end)
    match = re.compile(r"[ \t]*;?[ \t]*(?:--[^\n]*)?\n?").match(text, end)
    return start, match.end() if match else end


def _char(source: SourceFile, byte_offset: int) -> int:
    return len(source.data[:byte_offset].decode("utf-8", "replace"))


_SLUG = re.compile(r"[^a-z0-9]+")


def layout_of(context: FixContext) -> ModuleType | None:
    """The layout module of the finding's migrations directory (None: a loose file)."""
    if context.migration_set is None:
        return None
    return all_layouts().get(context.migration_set.layout)


def migration_of(context: FixContext) -> MigrationFile | None:
    """The forward migration (or section) the finding's file is."""
    if context.migration_set is None:
        return None
    path = os.path.abspath(context.source.path)
    return next((m for m in context.migration_set.forwards if os.path.abspath(m.path) == path), None)


class Span(NamedTuple):
    start: int  # bytes of the file
    end: int | None  # None: to the end of the file

    def holds(self, statement: Statement) -> bool:
        return statement.start >= self.start and (self.end is None or statement.start < self.end)


def sections(context: FixContext) -> tuple[Span, Span | None]:
    """Where the migration's forward SQL and (in the same file) its rollback
    are, in the text as it is now (an editor buffer may differ from the disk
    the listing read): a dbmate file's up and down sections; else the whole file."""
    layout = layout_of(context)
    migration = migration_of(context)
    if migration is not None and migration.is_section and layout is not None and hasattr(layout, "sections"):
        parts = layout.sections(context.source.path, context.source.data)
        if parts is not None:
            up, _, down, _ = parts
            return Span(up.start, up.end), Span(down.start, down.end) if down is not None else None
    return Span(0, None), None


def wants_rollback(context: FixContext) -> bool:
    """The layout has rollbacks here (MSC401 asks for them), or the project requires them."""
    migration_set = context.migration_set
    return migration_set is not None and (migration_set.has_rollbacks
                                          or bool(context.config and context.config.require_rollback))


def new_migration(context: FixContext, what: str, up: Script,
                  down: Script | None) -> tuple[tuple[Edit, ...], tuple[NewFile, ...]] | None:
    """The files of a new migration after every other one, in the layout's
    naming (a timestamp stays a timestamp), with its rollback where the
    layout has rollbacks. None where the layout cannot run `up` as asked."""
    layout = layout_of(context)
    migration_set = context.migration_set
    if layout is None or migration_set is None or not hasattr(layout, "new_migration"):
        return None
    versions = [m.version for m in migration_set.forwards if not m.repeatable] + list(context.taken_versions)
    version = layout.next_version(versions)
    slug = _SLUG.sub("_", what.lower()).strip("_")[:60] or "migration"
    options = Options(rollbacks=context.config.rollbacks if context.config else "")
    changes = layout.new_migration(migration_set.directory, version, slug, up,
                                   down if wants_rollback(context) else None, options)
    if changes is None:
        return None
    return to_edits(changes, version)


def to_edits(changes: list[Change], version: str = "") -> tuple[tuple[Edit, ...], tuple[NewFile, ...]]:
    edits = tuple(Edit(c.path, c.start, c.end, c.text) for c in changes if not c.create)
    return edits, tuple(NewFile(c.path, c.text, version) for c in changes if c.create)


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
                statement_scope: bool = True, config: Config | None = None) -> FixContext:
    """The fix context of a finding reported at a line and column of `source`."""
    offset = source.byte_offset_of_char(char_offset(source.text, line, column))
    statement = statement_at(parsed, offset)
    return FixContext(code, source, parsed, offset, statement, migration_set, taken_versions, statement_scope, config)

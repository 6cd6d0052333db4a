"""A migration file as the applier runs it: its text split into statements.

Statements are sent one at a time, as `psql -f` does, so a failing statement
is known exactly and PostgreSQL's error position (relative to the text sent)
maps back into the file. A file libpg_query cannot split (e.g. syntax newer
than our parser) is sent whole: PostgreSQL then reports positions relative to
the whole file, which map back just as well.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mobius_sqlcheck.errors import OperationFailed
from mobius_sqlcheck.migrations import MigrationFile, has_no_transaction_directive
from mobius_sqlcheck.parse import Statement, parse_source
from mobius_sqlcheck.policy import FileView, file_problems
from mobius_sqlcheck.source import Position, ReadProblem, SourceFile, read_file_bytes, read_source, section_of
from mobius_sqlcheck.suppressions import find_suppressions


@dataclass(frozen=True, slots=True)
class Piece:
    """One statement's text and the byte offset where it starts in the file."""

    text: str
    start: int
    node_type: str
    node: dict


@dataclass(frozen=True)
class Script:
    path: str
    source: SourceFile
    pieces: tuple[Piece, ...]
    no_transaction: bool
    checksum: str
    statements: tuple[Statement, ...] = ()  # empty when the file is sent whole

    def position(self, piece: Piece, char_offset: int) -> Position:
        """File line/column of a character offset (0-based) within a piece."""
        clamped = max(0, min(char_offset, len(piece.text)))
        return self.source.position(piece.start + len(piece.text[:clamped].encode("utf-8")))


def file_checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_script(migration: MigrationFile | str) -> Script:
    """A migration's statements: a whole file, or its section (a dbmate
    `-- migrate:up` / `-- migrate:down`), positions in the real file. The
    checksum is the whole file's, as the history records it."""
    path = migration if isinstance(migration, str) else migration.path
    source = read_source(path)
    if isinstance(source, ReadProblem):
        raise OperationFailed(f"{path}:{source.line}:{source.column}: {source.message}")
    checksum = file_checksum(read_file_bytes(path))
    no_transaction = has_no_transaction_directive(source.text)
    if not isinstance(migration, str):
        if migration.is_section:  # the section alone, every offset still the real file's
            source = section_of(source, migration.start, migration.end)
            no_transaction = has_no_transaction_directive(source.text)
        no_transaction = no_transaction or not migration.in_transaction
    statements = _statements(source)  # None: let the server judge the whole file
    pieces = tuple(_piece(source, statement) for statement in statements) if statements is not None else (
        (Piece(source.text, 0, "", {}),) if source.text.strip() else ())
    return Script(path, source, pieces, no_transaction, checksum, tuple(statements or ()))


def _statements(source: SourceFile) -> list[Statement] | None:
    parsed = parse_source(source)
    return None if parsed.problems else parsed.statements


def _piece(source: SourceFile, statement: Statement) -> Piece:
    text = source.data[statement.start:statement.end].decode("utf-8")
    return Piece(text, statement.start, statement.node_type, statement.node)


def policy_problems(script: Script) -> list[str]:
    """What the policy refuses in this file (the statements MSC502, MSC503
    and MSC504 report): refused before anything runs, even with --skip-lint,
    since a COMMIT half way would break the all-or-nothing guarantee, a
    non-idempotent no-transaction file cannot be retried, and session state
    leaks through the pooler to other clients."""
    statements = list(script.statements)
    view = FileView(script.source, statements, script.no_transaction)
    # An inline suppression the lint honours is honoured here too: lint passing means apply accepts.
    suppressions = find_suppressions(script.source, statements)
    problems = []
    for problem in file_problems(view):
        if any(suppression.covers(problem.code, problem.offset) for suppression in suppressions):
            continue
        where = script.source.position(problem.offset)
        problems.append(f"{script.path}:{where.line}:{where.column}: {problem.code} {problem.message}")
    return problems

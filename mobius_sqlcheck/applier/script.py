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
from mobius_sqlcheck.source import Position, ReadProblem, SourceFile, read_file_bytes, read_source, section_of


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
    if isinstance(migration, str) or not migration.is_section:
        no_transaction = has_no_transaction_directive(source.text)
        if not isinstance(migration, str):
            no_transaction = no_transaction or not migration.in_transaction
        return Script(path, source, split_statements(source), no_transaction, checksum)
    section = section_of(source, migration.start, migration.end)
    no_transaction = not migration.in_transaction or has_no_transaction_directive(section.text)
    return Script(path, source, split_statements(section), no_transaction, checksum)


def split_statements(source: SourceFile) -> tuple[Piece, ...]:
    parsed = parse_source(source)
    if parsed.problems:  # let the server judge the whole file
        return (Piece(source.text, 0, "", {}),) if source.text.strip() else ()
    return tuple(_piece(source, statement) for statement in parsed.statements)


def _piece(source: SourceFile, statement: Statement) -> Piece:
    text = source.data[statement.start:statement.end].decode("utf-8")
    return Piece(text, statement.start, statement.node_type, statement.node)


# Statements that a re-run after a partial failure repeats harmlessly. A
# no-transaction file has no rollback: half of it may have run.
def idempotency_problem(piece: Piece) -> str | None:
    node, kind = piece.node, piece.node_type
    if kind in ("", "SelectStmt", "VacuumStmt", "ReindexStmt"):
        return None
    if kind in ("IndexStmt", "CreateStmt", "CreateSchemaStmt", "CreateExtensionStmt", "CreateSeqStmt"):
        ok = node.get("if_not_exists", False)
        fix = "IF NOT EXISTS"
    elif kind == "DropStmt":
        ok = node.get("missing_ok", False)
        fix = "IF EXISTS"
    elif kind == "AlterEnumStmt":
        ok = node.get("skipIfNewValExists", False) or "oldVal" in node
        fix = "ADD VALUE IF NOT EXISTS"
    else:
        return f"{kind} in a no-transaction file: only idempotent statements may run outside a transaction"
    if ok:
        return None
    return f"not idempotent: use {fix}, so a re-run after a partial failure succeeds"


def idempotency_problems(script: Script) -> list[str]:
    problems = []
    for piece in script.pieces:
        problem = idempotency_problem(piece)
        if problem:
            where = script.source.position(piece.start)
            problems.append(f"{script.path}:{where.line}:{where.column}: {problem}")
    return problems


def transaction_control_problems(script: Script) -> list[str]:
    """BEGIN / COMMIT / ROLLBACK in a file: a COMMIT would end the applier's
    transaction half way and break its all-or-nothing guarantee, so it is
    refused even with --skip-lint."""
    return [
        f"{script.path}:{script.source.position(p.start).line}:{script.source.position(p.start).column}: "
        "transaction control inside a migration: the applier runs each file in its own transaction"
        for p in script.pieces
        if p.node_type == "TransactionStmt"
    ]

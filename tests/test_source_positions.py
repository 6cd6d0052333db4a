"""Positions are 1-based lines and character columns, whatever the bytes."""

from __future__ import annotations

from mobius_sqlcheck.parse import parse_source
from mobius_sqlcheck.source import Position, ReadProblem, SourceFile, decode_source, skip_trivia


def _source(raw: bytes) -> SourceFile:
    source = decode_source("t.sql", raw)
    assert isinstance(source, SourceFile)
    return source


def _starts(raw: bytes) -> list[Position]:
    source = _source(raw)
    return [source.position(statement.start) for statement in parse_source(source).statements]


def test_statement_position_is_first_token_not_leading_comments() -> None:
    raw = b"-- header\n\n/* block */  -- x\n   SELECT 1;\n-- between\nSELECT 2;"
    assert _starts(raw) == [Position(4, 4), Position(6, 1)]


def test_non_ascii_comment_does_not_shift_columns() -> None:
    raw = "-- marque: café ☕ 日本語\n/* ü */ SELECT 'é', 1;  SELECT 2;".encode()
    assert _starts(raw) == [Position(2, 9), Position(2, 25)]


def test_crlf_lines_counted_as_seen() -> None:
    raw = b"-- one\r\n\r\nSELECT 1;\r\n  SELECT 2;\r\n"
    assert _starts(raw) == [Position(3, 1), Position(4, 3)]


def test_bom_is_not_a_column() -> None:
    raw = b"\xef\xbb\xbfSELECT 1; SELECT 2;"
    assert _starts(raw) == [Position(1, 1), Position(1, 11)]


def test_nested_block_comments_are_skipped() -> None:
    data = b"/* a /* nested */ still comment */ SELECT"
    assert data[skip_trivia(data, 0):] == b"SELECT"


def test_invalid_utf8_reports_line_and_column_of_the_byte() -> None:
    problem = decode_source("t.sql", b"SELECT 1;\n-- caf\xe9\n")
    assert isinstance(problem, ReadProblem)
    assert (problem.line, problem.column) == (2, 7)


def test_end_of_last_statement_excludes_trailing_semicolon_and_space() -> None:
    source = _source(b"SELECT 1;\nSELECT 22 ;\n\n")
    last = parse_source(source).statements[-1]
    assert source.data[last.start:last.end] == b"SELECT 22"

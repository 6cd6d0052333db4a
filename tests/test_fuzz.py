"""Fuzzing the whole lint pipeline: a short run here, the long one is
`python scripts/fuzz.py --minutes N`. The inputs and the invariants are in
tests/fuzzing.py; tests/fuzz_corpus/ holds every case that once broke one.

The whole file runs in well under a minute: MOBIUS_FUZZ_EXAMPLES sets the
number of random cases per property (default 150).
"""

from __future__ import annotations

import sys
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pglast import parser as pg_parser

from mobius_sqlcheck import source as source_module
from mobius_sqlcheck.parse import scan
from mobius_sqlcheck.source import SourceFile, decode_source
from tests.fuzzing import NESTINGS, SHORT, cases, check_case, load_corpus, nested, save_crasher

SECRET = b"S3cr3t-Pa55w0rd-xyzzy"


@settings(SHORT)
@given(cases())
def test_random_migration_directories_keep_the_invariants(files: dict[str, bytes]) -> None:
    check_case(files)


@settings(SHORT)
@given(st.binary(max_size=3000), st.sampled_from(["001_fuzz.sql", "notes.sql", "settings.env"]))
def test_random_bytes_keep_the_invariants(data: bytes, name: str) -> None:
    check_case({name: data})


@settings(SHORT)
@given(st.text(max_size=400), st.sampled_from(["001_fuzz.sql", "settings.env"]))
def test_random_text_keeps_the_invariants(text: str, name: str) -> None:
    check_case({name: text.encode("utf-8", "surrogatepass")})


@pytest.mark.parametrize(("name", "files"), load_corpus(), ids=lambda value: value if isinstance(value, str) else "")
def test_saved_crashers_stay_fixed(name: str, files: dict[str, bytes]) -> None:
    check_case(files)


def test_saved_crashers_round_trip(tmp_path) -> None:
    files = {"001_fuzz.sql": b"SELECT (;", "settings.env": b"\xff"}
    directory = save_crasher(files, tmp_path)
    assert load_corpus(tmp_path) == [(directory.name, files)]


# -- deep nesting and huge statements ---------------------------------------------------


@pytest.mark.parametrize("kind", sorted(NESTINGS))
def test_5000_levels_of_nesting(kind: str) -> None:
    """Too deep for libpg_query ("memory exhausted", "stack depth limit
    exceeded") or for the tool (TOO_DEEP): a syntax error on line 2; the
    statements around it are still checked."""
    result = check_case({"001_deep.sql": b"SELECT 1;\n" + nested(kind, 5000) + b"\nSELECT 2;\n"})
    errors = [d for d in result.diagnostics if d.rule == "MSC001"]
    if kind in ("block comments", "parentheses"):  # flat once parsed
        assert errors == []
    else:
        assert [d.line for d in errors] == [2], errors


@pytest.mark.parametrize("kind", ["sub-selects", "calls", "casts", "and", "plus", "arrays"])
def test_deep_but_decodable_statements_never_crash_a_rule(kind: str) -> None:
    """Trees decoded by orjson (16 files or more) are checked deeper in the
    stack than they were decoded (a worker process's rules run a few frames
    deeper still): a tree just shallow enough to decode must not make a
    recursive rule fail (MSC004)."""
    files = {f"{number:03d}_pad.sql": b"SELECT 1;\n" for number in range(1, 20)}

    def at_depth(frames: int, depth: int) -> None:
        if frames:
            return at_depth(frames - 1, depth)
        files["020_deep.sql"] = nested(kind, depth)
        check_case(files)

    for depth in range(100, 520, 29):
        at_depth(250, depth)


def test_ten_megabyte_statements() -> None:
    size = 10 * 1024 * 1024
    values = b"INSERT INTO t (a) VALUES " + b",".join(b"(%d)" % i for i in range(size // 9)) + b";\n"
    check_case({"001_values.sql": values})
    literal = ("INSERT INTO t (a) VALUES ('" + "é" * (size // 2) + "');\nSELECT (;\n").encode()
    result = check_case({"001_literal.sql": literal})
    assert [(d.rule, d.line) for d in result.diagnostics if d.rule == "MSC001"] == [("MSC001", 2)]
    unterminated = b"SELECT 1;\nINSERT INTO t (a) VALUES ('" + b"x" * size + b";\n"
    result = check_case({"001_open.sql": unterminated})
    (error,) = [d for d in result.diagnostics if d.rule == "MSC001"]
    assert (error.line, error.column) == (2, 27)
    assert len(error.message) < 120 and "\n" not in error.message


def test_long_non_ascii_file_keeps_its_positions() -> None:
    """A 500 kB file with Cyrillic text: positions at its end are still
    right. (pglast's scanner is quadratic in non-ASCII text, so this file once
    took minutes; this test asserts no time, it only makes a regression show
    as minutes of suite time.)"""
    block = "-- комментарий: проверка позиции\nCREATE TABLE t{n} (id int, \"имя\" text); -- ещё\n"
    data = "".join(block.format(n=n) for n in range(3000)).encode()
    result = check_case({"001_cyrillic.sql": data})
    quoted = [(d.line, d.column) for d in result.diagnostics if d.rule == "MSC204"]
    assert quoted[-1] == (6000, 29)


@settings(SHORT, max_examples=SHORT.max_examples * 10)
@given(st.text(alphabet=st.sampled_from(list("ab\n\r") + ["é", "日", "𝔘"]), max_size=40), st.data())
def test_offsets_convert_like_encoding_the_prefix(text: str, data: st.DataObject) -> None:
    """SourceFile converts offsets through a table of every _CHUNK-th
    character; made tiny here so that short texts cross many entries."""
    with patch.object(source_module, "_CHUNK", 3):
        source = decode_source("t.sql", text.encode())
        assert isinstance(source, SourceFile)
        char = data.draw(st.integers(0, len(text)))
        assert source.byte_offset_of_char(char) == len(text[:char].encode())
        offset = data.draw(st.integers(0, len(source.data)))
        line_start = source.data.rfind(b"\n", 0, offset) + 1
        expected_column = len(source.data[line_start:offset].decode("utf-8", "replace")) + 1
        assert source.position(offset) == (source.data.count(b"\n", 0, offset) + 1, expected_column)


# -- the scanner ---------------------------------------------------------------------

_PIECES = st.sampled_from(
    list("abeEnNuUxXqQ_019$'\"();,.:+-*/\\ \n\t&") + [
        "é", "ü", "日", "☕", "\u2028", "𝔘", "U&'", "$$", "$é$", "$ü$", "$a$", "/*", "*/", "--", "E'",
        "0x", "ánalyze", "analyze", "zone", "sequéncé", "B'", "X'", "N'", "SELECT", "1e5", "1é5",
    ])


def _tokens(scanner, text: str) -> object:
    try:
        return [(token.start, token.end, token.name, token.kind) for token in scanner(text)]
    except pg_parser.Error as error:
        return ("error", error.args[1:])  # the message quotes the text; its position must agree


@settings(SHORT, max_examples=SHORT.max_examples * 10)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_fast_scan_gives_pglasts_tokens(text: str) -> None:
    assert _tokens(scan, text) == _tokens(pg_parser.scan, text)


def test_recursion_limit_is_untouched() -> None:
    limit = sys.getrecursionlimit()
    check_case({"001_deep.sql": nested("sub-selects", 5000)})
    assert sys.getrecursionlimit() == limit

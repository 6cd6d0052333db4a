"""Fuzzing the lint pipeline: the inputs, how they are mutated, and the
invariants every run keeps. Used by tests/test_fuzz.py (a short run in the
suite) and scripts/fuzz.py (the long run, with hypothesis or atheris).

A case is a small migrations directory: `{file name: bytes}`. `check_case`
lints it the way the CLI does (every rule on, off-by-default ones included)
and asserts:

- no exception, no MSC004 (internal error), `internal_errors == 0`;
- every diagnostic names a file of the case and lies inside it:
  1 <= line <= line count, 1 <= column <= that line's length + 1 (characters,
  after a UTF-8 BOM; lines split at "\\n"), and the end is not before the start;
- linting twice gives the same diagnostics, and every reporter renders them
  (JSON and SARIF as valid JSON), the same way twice;
- a file that parses whole is split by the scanner (the path after a syntax
  error) into the same statements.

A case that breaks an invariant is saved under tests/fuzz_corpus/ (one
directory per case, holding its files as `<name>.fuzz`) and replayed by
test_fuzz.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from mobius_sqlcheck import parse
from mobius_sqlcheck.config import Config
from mobius_sqlcheck.lint import LintResult, lint_paths
from mobius_sqlcheck.reporters import FORMATS, renderer
from mobius_sqlcheck.rules import all_rules
from mobius_sqlcheck.source import SourceFile, decode_source

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                 HealthCheck.filter_too_much]
# The suite's short run; scripts/fuzz.py runs "mobius-fuzz-long" batch after batch.
settings.register_profile("mobius-fuzz-short", max_examples=int(os.environ.get("MOBIUS_FUZZ_EXAMPLES", "150")),
                          deadline=None, suppress_health_check=_SLOW_IS_FINE)
settings.register_profile("mobius-fuzz-long", max_examples=5000, deadline=None,
                          suppress_health_check=_SLOW_IS_FINE)
SHORT = settings.get_profile("mobius-fuzz-short")
LONG = settings.get_profile("mobius-fuzz-long")

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fuzz_corpus"
UTF8_BOM = b"\xef\xbb\xbf"

# Snippets a real migration directory holds beside the project's own files.
HANDWRITTEN = [
    b"DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN\n"
    b"    CREATE ROLE app;\n  END IF;\nEND\n$$;\n",
    b"CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $a$\nBEGIN\n"
    b"  EXECUTE $b$ SELECT 'x;' $b$;\n  RETURN $c$ ; $c$;\nEND\n$a$;\n",
    b"CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql BEGIN ATOMIC\n  SELECT a + b;\nEND;\n",
    b"CREATE TABLE t (a int, b text);\nCOPY t (a, b) FROM stdin;\n1\tone\n2\ttwo\n\\.\nSELECT 1;\n",
    "-- mobius-sqlcheck: ignore MSC301 ajouté à la main\nALTER TABLE brands ADD COLUMN note text NOT NULL;\n"
    "-- mobius-sqlcheck: ignore-file MSC204, MSC999\nCREATE TABLE \"Été\" (id int);\n".encode(),
    b"-- mobius-sqlcheck: no-transaction\nCREATE INDEX CONCURRENTLY idx_t_a ON t (a);\n",
    b"\\set ON_ERROR_STOP on\n\\i other.sql\nSELECT 1;\n",
    b"-- DATABASE_URL=postgresql://app:S3cr3t-Pa55w0rd-xyzzy@db.abc.supabase.co:5432/postgres\n"
    b"SELECT 'host=db.abc.supabase.co port=5432 password=S3cr3t-Pa55w0rd-xyzzy';\n",
    b"INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types)\n"
    b"VALUES ('logos', 'logos', false, 5 * 1024 * 1024, ARRAY['image/png', 'image/svg+xml']);\n",
    b"BEGIN;\nSET search_path = public;\nLISTEN x;\nPREPARE p AS SELECT 1;\nCOMMIT;\n",
    b"CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE TABLE b (id bigint, a_id bigint REFERENCES a(id));\n"
    b"CREATE TRIGGER b_touch_trigger BEFORE UPDATE ON b FOR EACH ROW EXECUTE FUNCTION touch();\n"
    b"ALTER TABLE b ENABLE ROW LEVEL SECURITY;\nCREATE POLICY p ON b USING (auth.uid() = id::text::uuid);\n"
    b"ALTER TABLE a ALTER COLUMN id TYPE int;\nALTER TABLE b RENAME COLUMN a_id TO a_ref;\nDROP TABLE a CASCADE;\n",
]

# Pieces inserted into a file: the starts of every kind of token that can be
# left open, encodings gone wrong, and what the tool reads in comments.
FRAGMENTS = [
    b"'", b"E'\\", b"U&'\\", b"\"", b"/*", b"*/", b"/* /* nested", b"--", b"$$", b"$a$", b"$b$",
    "$é$".encode(), b"$1", b";", b";;", b"(", b")", b"[", b"]", b"::", b"\\", b"\\.\n", b"\n\\set x 1\n",
    b"\x00", b"\r", b"\r\n", b"\n", b"\t", b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", UTF8_BOM,
    b"\xff\xfe", "é".encode(), "日本語".encode(), "𝔘".encode(), "\u2028".encode(), "\u00a0".encode(),
    "e\u0301".encode(), "\u202e".encode(), "\ufeff".encode(), "☕".encode(),
    b"-- mobius-sqlcheck: ignore MSC301\n", b"-- mobius-sqlcheck: ignore-file MSC201, MSC9999 reason\n",
    b"-- mobius-sqlcheck: ignore\n", b"-- mobius-sqlcheck: no-transaction\n",
    b"BEGIN;", b"COMMIT;", b"BEGIN ATOMIC ", b" END;", b"COPY t FROM stdin;\n1\t2\n", b"DO $$ BEGIN ",
    b"CREATE TABLE IF NOT EXISTS x (id int);", b"ALTER TABLE brands ADD COLUMN c int NOT NULL DEFAULT random();",
    b"CREATE INDEX CONCURRENTLY i ON x (id);", b"DROP TABLE x;",
    b"postgresql://u:S3cr3t-Pa55w0rd-xyzzy@db.abc.supabase.co:5432/postgres",
    b"host=db.x port=5432 password='p w'", b"postgres://[::1:5432/x", b"postgresql://u:%zz@h/d",
]

NESTINGS = {
    "parentheses": ("SELECT ", "(", "1", ")", ";"),
    "sub-selects": ("SELECT ", "(SELECT ", "1", ")", ";"),
    "calls": ("SELECT ", "f(", "1", ")", ";"),
    "arrays": ("SELECT ", "ARRAY[", "1", "]", ";"),
    "casts": ("ALTER TABLE brands ADD COLUMN x text DEFAULT ", "(", "'1'", "::text)", ";"),
    "and": ("CREATE TABLE n (a int, CHECK (", "(a IS NOT NULL AND ", "true", ")", "));"),
    "case": ("SELECT ", "CASE WHEN true THEN ", "1", " END", ";"),
    "block comments": ("", "/* ", "", " */", "SELECT 1;"),
    "plus": ("INSERT INTO storage.buckets (id, file_size_limit) VALUES ('b', 1", " + 1", "", "", ");"),
}


def nested(kind: str, depth: int) -> bytes:
    head, opener, middle, closer, tail = NESTINGS[kind]
    return (head + opener * depth + middle + closer * depth + tail).encode()


@lru_cache(maxsize=1)
def seed_files() -> tuple[bytes, ...]:
    """The project's migrations, a small deterministic bench corpus (when
    bench/corpus.py exists), and the handwritten snippets."""
    seeds = [path.read_bytes() for path in sorted((REPO / "migrations").glob("*.sql"))]
    try:
        from bench import corpus
    except ImportError:
        corpus = None
    if corpus is not None:
        with tempfile.TemporaryDirectory() as directory:
            for path in sorted(corpus.generate(directory, files=12, seed=6)):
                seeds.append(Path(path).read_bytes())
    return tuple(seeds + HANDWRITTEN)


@lru_cache(maxsize=1)
def seed_statements() -> tuple[bytes, ...]:
    """Every statement of the seed files, with the comments before it."""
    statements = []
    for data in seed_files():
        source = decode_source("seed.sql", data)
        if isinstance(source, SourceFile):
            previous = 0
            for statement in parse.parse_source(source).statements:
                statements.append(source.data[previous:statement.end].strip() + b";")
                previous = statement.end + 1
    return tuple(statements)


# -- hypothesis strategies ---------------------------------------------------------


@st.composite
def statement_mix(draw: st.DrawFn) -> bytes:
    """Real statements from different files, in a new order: valid SQL that
    drives the catalog and the semantic rules into combinations no file has."""
    chosen = draw(st.lists(st.sampled_from(seed_statements()), min_size=1, max_size=25))
    data = b"\n\n".join(chosen) + b"\n"
    if draw(st.integers(0, 2)) == 0:
        data = draw(st.sampled_from(_OPERATIONS))(draw, data)
    return data


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real-looking migration, mutated a few times."""
    seeds = seed_files()
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(0, 5))):
        operation = draw(st.sampled_from(_OPERATIONS))
        data = operation(draw, data)
    return data


def _at(draw: st.DrawFn, data: bytes) -> int:
    return draw(st.integers(0, len(data)))


def _truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[:_at(draw, data)]


def _splice(draw: st.DrawFn, data: bytes) -> bytes:
    other = draw(st.sampled_from(seed_files()))
    return data[:_at(draw, data)] + other[_at(draw, other):]


def _insert(draw: st.DrawFn, data: bytes) -> bytes:
    at = _at(draw, data)
    piece = draw(st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(max_size=12).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.binary(max_size=8),
    ))
    return data[:at] + piece + data[at:]


def _delete(draw: st.DrawFn, data: bytes) -> bytes:
    start = _at(draw, data)
    return data[:start] + data[start + draw(st.integers(1, 200)):]


def _duplicate(draw: st.DrawFn, data: bytes) -> bytes:
    start = _at(draw, data)
    end = min(len(data), start + draw(st.integers(1, 400)))
    return data[:end] + data[start:end] + data[end:]


def _crlf(draw: st.DrawFn, data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", draw(st.sampled_from([b"\r\n", b"\r", b"\n\n"])))


def _nest(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(st.sampled_from(sorted(NESTINGS)))
    depth = draw(st.one_of(st.integers(1, 60), st.integers(60, 600), st.sampled_from([5000])))
    at = _at(draw, data)
    return data[:at] + b"\n" + nested(kind, depth) + b"\n" + data[at:]


_OPERATIONS = [_truncate, _splice, _insert, _insert, _insert, _delete, _duplicate, _crlf, _nest]

_TOKENS = [
    "SELECT", "CREATE", "TABLE", "INDEX", "ALTER", "ADD", "COLUMN", "DROP", "NOT", "NULL", "DEFAULT",
    "IF", "EXISTS", "ON", "USING", "(", ")", ",", ";", "'x'", "$$", "1", "t", "brands", "storage.buckets",
    "public.t", "int", "text", "jsonb", "PRIMARY", "KEY", "REFERENCES", "CHECK", "POLICY", "TRIGGER",
    "FUNCTION", "RETURNS", "LANGUAGE", "plpgsql", "AS", "BEGIN", "END", "DO", "INSERT", "INTO", "VALUES",
    "COPY", "FROM", "stdin", "RENAME", "TO", "TYPE", "SET", "CONCURRENTLY", "ROW", "LEVEL", "SECURITY",
    "ENABLE", "\n", "--", "/*", "*/", "\"Q\"", "é", "\\set", "ATOMIC", "SECURITY DEFINER", "VIEW",
]
token_soup = st.lists(st.sampled_from(_TOKENS), max_size=40).map(lambda tokens: " ".join(tokens).encode())

file_contents = st.one_of(
    statement_mix(),
    statement_mix(),
    statement_mix(),
    mutated(),
    mutated(),
    token_soup,
    st.binary(max_size=600),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, bytes]:
    """A migrations directory of one to three files, maybe with a rollback,
    sometimes with a text file the connection-string scan reads."""
    files = {"001_fuzz.sql": draw(file_contents)}
    if draw(st.booleans()):
        files["001_fuzz_rollback.sql"] = draw(file_contents)
    if draw(st.integers(0, 3)) == 0:
        files["002_more.sql"] = draw(file_contents)
    if draw(st.integers(0, 4)) == 0:
        files["settings.env"] = draw(file_contents)
    return files


# -- the invariants ----------------------------------------------------------------


# MSC005 runs sqlfluff, a thousand times slower than the rest: left to its own tests.
NOT_FUZZED = ("MSC005",)


def every_rule_on(migrations: str) -> Config:
    off = {code: "warning" for code, rule in all_rules().items() if rule.severity == "off"}
    for code in NOT_FUZZED:
        off[code] = "off"
    return Config(migrations=migrations, severity=off)


def check_case(files: dict[str, bytes]) -> LintResult:
    """Lint the case in a temporary directory; raise AssertionError (or the
    pipeline's own exception) if an invariant does not hold."""
    with tempfile.TemporaryDirectory(prefix="mobius-fuzz-") as directory:
        migrations = os.path.join(directory, "migrations")
        os.mkdir(migrations)
        paths = []
        for name, data in sorted(files.items()):
            path = os.path.join(migrations, name)
            with open(path, "wb") as handle:
                handle.write(data)
            paths.append(path)
        for name, data in files.items():
            if name.endswith(".sql") and len(data) <= 1_000_000:  # not the 10 MB cases: minutes
                check_fallback_split(data)
        config = every_rule_on(migrations)
        first = lint_paths(paths, config)
        second = lint_paths(paths, config)
        lines = {path: _lines(files[os.path.basename(path)]) for path in paths}
        _check_result(first, lines)
        assert first.diagnostics == second.diagnostics, "the same input gave different diagnostics"
        for name in FORMATS:
            rendered = renderer(name)(first)
            assert rendered == renderer(name)(second), f"{name} output differs between two runs"
            if name in ("json", "sarif"):
                json.loads(rendered)
        return first


def check_fallback_split(data: bytes) -> None:
    """A file libpg_query parses whole is split by the scanner (the path taken
    after a syntax error) into the same statements, with no error."""
    source = decode_source("check.sql", data)
    if not isinstance(source, SourceFile):
        return
    whole = parse.parse_source(source)
    if any(problem.kind == "syntax" for problem in whole.problems):
        return
    split = parse.ParsedFile(source)
    parse._parse_statement_by_statement(source, parse._blank_psql_only(source.text, []), split)
    assert split.problems == [], f"the scanner split found errors the parser did not: {split.problems}"
    spans = [(s.node_type, s.start, s.end) for s in split.statements]
    assert spans == [(s.node_type, s.start, s.end) for s in whole.statements], "the scanner split differs"


def _lines(raw: bytes) -> list[str]:
    """The file's lines as the tool counts them (an undecodable file as its
    MSC002 position does: invalid bytes as U+FFFD)."""
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM):]
    return raw.decode("utf-8", "replace").split("\n")


def _check_result(result: LintResult, lines: dict[str, list[str]]) -> None:
    assert result.internal_errors == 0, f"internal errors: {result.diagnostics}"
    for d in result.diagnostics:
        assert d.rule != "MSC004", f"internal error: {d}"
        assert d.path in lines, f"diagnostic for a file not linted: {d}"
        file_lines = lines[d.path]
        for line, column in ((d.line, d.column), (d.end_line, d.end_column)):
            assert 1 <= line <= len(file_lines), f"line outside the file ({len(file_lines)} lines): {d}"
            assert 1 <= column <= len(file_lines[line - 1]) + 1, (
                f"column outside line {line} ({len(file_lines[line - 1])} characters): {d}")
        assert (d.end_line, d.end_column) >= (d.line, d.column), f"end before start: {d}"


# -- the corpus of crashers ------------------------------------------------------------


# Saved files end in .fuzz, so that no SQL tool (the format hook, an editor)
# takes them for real SQL.
SUFFIX = ".fuzz"


def save_crasher(files: dict[str, bytes], corpus: Path = CORPUS) -> Path:
    """Write a failing case as tests/fuzz_corpus/<hash>/<file name>.fuzz."""
    digest = hashlib.sha256()
    for name, data in sorted(files.items()):
        digest.update(name.encode() + b"\0" + data + b"\0")
    directory = corpus / digest.hexdigest()[:16]
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / (name + SUFFIX)).write_bytes(data)
    return directory


def load_corpus(corpus: Path = CORPUS) -> list[tuple[str, dict[str, bytes]]]:
    """Saved cases: a directory of .fuzz files, or a lone .fuzz file (linted
    as 001_fuzz.sql, e.g. a crash file of atheris renamed)."""
    found: list[tuple[str, dict[str, bytes]]] = []
    if not corpus.is_dir():
        return found
    for entry in sorted(corpus.iterdir()):
        if entry.is_dir():
            files = {path.name[:-len(SUFFIX)]: path.read_bytes() for path in sorted(entry.iterdir())
                     if path.name.endswith(SUFFIX)}
            found.append((entry.name, files))
        elif entry.name.endswith(SUFFIX):
            found.append((entry.name, {"001_fuzz.sql": entry.read_bytes()}))
    return found

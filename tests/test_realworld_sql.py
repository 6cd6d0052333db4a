"""SQL as real migrations hold it: DO blocks, dollar-quoted bodies with
nested tags, COPY ... FROM STDIN with its rows, procedural languages, BEGIN
ATOMIC bodies, and a file of thousands of statements. Each is linted without
a false syntax error or internal error, and findings after it are at the
right line and column.

COPY ... FROM STDIN followed by rows (what pg_dump writes) is a psql-ism: the
rows reach the server over the COPY protocol, which only psql speaks for a
script. The linter reports the COPY statement as MSC505 (like a psql
meta-command), does not read the rows as SQL, and lints the rest of the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mobius_sqlcheck.config import Config
from mobius_sqlcheck.lint import lint_paths
from tests.fuzzing import check_case

# The rules whose false positives these inputs would provoke, plus markers.
WATCHED = ["MSC001", "MSC004", "MSC009", "MSC201", "MSC502", "MSC503", "MSC504", "MSC505"]
MARKER = "CREATE INDEX marker ON public.brands (brand_id);"  # MSC201 at column 14


def lint(tmp_path: Path, text: str) -> list[tuple[str, int, int]]:
    migrations = tmp_path / "migrations"
    migrations.mkdir(exist_ok=True)
    path = migrations / "001_realworld.sql"
    path.write_text(text, encoding="utf-8")
    (migrations / "001_realworld_rollback.sql").write_text("SELECT 1;\n", encoding="utf-8")
    check_case({"001_realworld.sql": text.encode(), "001_realworld_rollback.sql": b"SELECT 1;\n"})
    result = lint_paths([str(path)], Config(migrations=str(migrations), select=WATCHED))
    assert result.internal_errors == 0
    return [(d.rule, d.line, d.column) for d in result.diagnostics]


def marker_line(text: str) -> int:
    return text.splitlines().index(MARKER) + 1


DO_BLOCKS = """\
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN
    CREATE ROLE app;  -- a `;` inside the body
  END IF;
EXCEPTION WHEN duplicate_object THEN
  RAISE NOTICE 'rôle déjà là; rien à faire';
END
$$;
DO LANGUAGE plpgsql $do$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', r.tablename);
  END LOOP;
END
$do$;
CREATE INDEX marker ON public.brands (brand_id);
"""


def test_do_blocks(tmp_path) -> None:
    assert lint(tmp_path, DO_BLOCKS) == [("MSC201", marker_line(DO_BLOCKS), 14)]


NESTED_TAGS = """\
CREATE FUNCTION public.run_twice() RETURNS text LANGUAGE plpgsql AS $a$
DECLARE
  inner_sql text := $b$ SELECT 'x;' || $$ ; $$ $b$;  -- $$ inside $b$, both inside the outer body
BEGIN
  EXECUTE inner_sql;
  EXECUTE $b$ CREATE TEMP TABLE t (c text DEFAULT ';') $b$;
  -- mobius-sqlcheck: ignore MSC201  (inside a body: not a suppression)
\\set not_a_meta_command
  RETURN $c$ $a $b $ $c$;
END
$a$;
CREATE FUNCTION public.été() RETURNS text LANGUAGE sql AS $été$ SELECT '$ü$ ; $été' $été$;
CREATE FUNCTION public.empty_tag() RETURNS text LANGUAGE sql AS $_$ SELECT $x$;$x$ $_$;
CREATE INDEX marker ON public.brands (brand_id);
"""


def test_dollar_quoted_bodies_with_nested_tags(tmp_path) -> None:
    assert lint(tmp_path, NESTED_TAGS) == [("MSC201", marker_line(NESTED_TAGS), 14)]


def test_nested_tags_survive_a_syntax_error_elsewhere(tmp_path) -> None:
    """After a syntax error, the file is split with the scanner: a `;` in a
    nested body must not split it."""
    text = NESTED_TAGS + "SELECT (;\n" + MARKER + "\n"
    last = len(text.splitlines())
    assert lint(tmp_path, text) == [("MSC201", marker_line(text), 14), ("MSC001", last - 1, 9), ("MSC201", last, 14)]


PROCEDURAL = '''\
CREATE OR REPLACE FUNCTION public.slugify(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT trim(both '-' FROM regexp_replace(lower(value), '[^a-z0-9]+', '-', 'g'));
$$;
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;
CREATE FUNCTION public.wordcount(doc text) RETURNS int LANGUAGE plpython3u AS $py$
import re  # a comment with a ; and a quote '
words = re.split(r"\\s+", doc.strip())
\\
return len([w for w in words if w]) ; # python allows a ;
$py$;
CREATE FUNCTION public.lua_like() RETURNS void LANGUAGE plperl AS 'my $x = 1; return;';
CREATE INDEX marker ON public.brands (brand_id);
'''


def test_functions_in_sql_plpgsql_and_plpython(tmp_path) -> None:
    assert lint(tmp_path, PROCEDURAL) == [("MSC201", marker_line(PROCEDURAL), 14)]


BEGIN_ATOMIC = """\
CREATE FUNCTION public.add(a int, b int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT a + b;
END;
CREATE OR REPLACE FUNCTION public.grade(score int) RETURNS text LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN score >= 90 THEN 'A' WHEN score >= 80 THEN 'B' ELSE 'C' END;
  SELECT 'unreachable; but parsed';
END;
CREATE PROCEDURE public.log_it(msg text) LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO public.log (message) VALUES (msg);
END;
CREATE INDEX marker ON public.brands (brand_id);
"""


def test_begin_atomic_bodies(tmp_path) -> None:
    assert lint(tmp_path, BEGIN_ATOMIC) == [("MSC201", marker_line(BEGIN_ATOMIC), 14)]


def test_begin_atomic_survives_a_syntax_error_elsewhere(tmp_path) -> None:
    """Split with the scanner after a syntax error, the BEGIN ... END of
    BEGIN ATOMIC stays one statement, as psql keeps it: no false syntax error
    inside it and its END is not a COMMIT (MSC503)."""
    text = "SELECT (;\n" + BEGIN_ATOMIC
    assert lint(tmp_path, text) == [("MSC001", 1, 9), ("MSC201", marker_line(text), 14)]


COPY_ROWS = '''\
CREATE TABLE public.countries (code text PRIMARY KEY, name text);
COPY public.countries (code, name) FROM stdin;
fr\tFrance; l'Hexagone
de\t\\N
\\.
CREATE INDEX marker ON public.brands (brand_id);
COPY public.countries FROM STDIN WITH (FORMAT csv, HEADER true);
code,name
"es","España; ""olé"""
\\.
'''


def test_copy_from_stdin_with_inline_rows(tmp_path) -> None:
    assert lint(tmp_path, COPY_ROWS) == [("MSC505", 2, 1), ("MSC201", 6, 14), ("MSC505", 7, 1)]


def test_copy_from_stdin_message_and_hint(tmp_path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    path = migrations / "001_copy.sql"
    path.write_text(COPY_ROWS, encoding="utf-8")
    result = lint_paths([str(path)], Config(migrations=str(migrations), select=["MSC505"]))
    first = result.diagnostics[0]
    assert first.message == ("COPY ... FROM STDIN with 2 inline row(s): only psql sends them; "
                             "a database driver cannot run it")
    assert "INSERT ... VALUES" in first.hint
    assert (first.end_line, first.end_column) == (2, 47)


def _statements(count: int) -> tuple[str, list[tuple[str, int, int]]]:
    """`count` statements of many kinds; every 1000th is a misnamed index
    after a non-ASCII comment. Returns the text and the expected findings."""
    kinds = [
        "CREATE TABLE public.t{n} (id bigint PRIMARY KEY, label text NOT NULL DEFAULT 'é{n}');",
        "ALTER TABLE public.t{n} ADD COLUMN note text;",
        "INSERT INTO public.t{n} (id, label) VALUES ({n}, 'ligne; {n}');",
        "CREATE INDEX idx_t{n}_label ON public.t{n} (label);",
        "COMMENT ON TABLE public.t{n} IS 'table n° {n}';",
        "ALTER TABLE public.t{n} ENABLE ROW LEVEL SECURITY;",
        "CREATE POLICY t{n}_read ON public.t{n} FOR SELECT USING (true);",
        "UPDATE public.t{n} SET label = $$x; y$$ WHERE id = {n};",
    ]
    lines: list[str] = []
    expected = []
    for n in range(count):
        if n % 1000 == 999:
            lines.append("-- index mal nommé : ça arrive")
            lines.append("  CREATE INDEX mal_nommé_" + str(n) + " ON public.t" + str(n - 7) + " (id);")
            expected.append(("MSC201", len(lines), 16))
        else:
            lines.append(kinds[n % 8].format(n=n - n % 8))
    return "\n".join(lines) + "\n", expected


def test_five_thousand_statements_in_one_migration(tmp_path) -> None:
    text, expected = _statements(5200)
    assert text.count(";\n") == 5200
    assert lint(tmp_path, text) == expected


@pytest.mark.parametrize("line_ending", ["\r\n", "\n"])
def test_positions_in_crlf_and_lf_files(tmp_path, line_ending) -> None:
    text = DO_BLOCKS.replace("\n", line_ending)
    assert lint(tmp_path, text) == [("MSC201", marker_line(DO_BLOCKS), 14)]

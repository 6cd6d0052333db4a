"""Beside the Supabase CLI: a database that `supabase db push` migrated.

The CLI's history is made by the real CLI (the npm package `supabase`, run
against the test server), so the table and the statements it records are
exactly the CLI's. Then: status shows what the CLI applied, apply refuses
until `baseline --from-supabase` ran, which checks the recorded statements;
with `supabase_history = "write"` apply keeps the CLI's table too, and
`supabase migration list` agrees.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg
import pytest

from mobius_sqlcheck.applier import supabase_history
from tests.applier.helpers import MIGRATIONS, Db, apply_args, write_migrations

pytestmark = pytest.mark.pg17  # runs on PostgreSQL 17 as well (tests/conftest.py)

FIRST_THREE = ("001_initial_schema.sql", "002_add_templates.sql", "003_add_feedback.sql")
LATER = ("004_learning_privacy.sql", "004_storage_buckets.sql", "005_add_compressed_twin.sql")


def cli_workdir(root: Path, files: dict[str, str]) -> Path:
    """A directory laid out as the CLI wants: supabase/migrations/*.sql."""
    write_migrations(root / "supabase" / "migrations", files)
    return root


def mobius_files(*names: str) -> dict[str, str]:
    return {name: (MIGRATIONS / name).read_text(encoding="utf-8") for name in names}


def cli(command: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([command, *args], capture_output=True, text=True, check=False, timeout=300)


def push(command: str, db: Db, workdir: Path) -> None:
    url = f"{db.direct}?sslmode=disable"  # the test server has no TLS; the CLI would insist on it
    result = cli(command, "db", "push", "--db-url", url, "--workdir", str(workdir), "--yes")
    assert result.returncode == 0, result.stdout + result.stderr


def write_config(tmp_path: Path, mode: str) -> Path:
    config = tmp_path / "pyproject.toml"
    config.write_text(
        "[tool.mobius_sqlcheck]\n"
        f"migrations = {str(MIGRATIONS)!r}\n"
        'grandfathered_duplicate_versions = ["004"]\n'
        f'supabase_history = "{mode}"\n',
        encoding="utf-8",
    )
    return config


def cli_rows(db: Db) -> list[tuple[str, str, list[str]]]:
    return db.query(f"SELECT version, name, statements FROM {supabase_history.TABLE} ORDER BY version")


def test_a_database_the_cli_migrated(db: Db, make_db, supabase_cli: str, run_cli, tmp_path: Path) -> None:
    push(supabase_cli, db, cli_workdir(tmp_path / "cli", mobius_files(*FIRST_THREE)))
    assert [r[:2] for r in cli_rows(db)] == [("001", "initial_schema"), ("002", "add_templates"),
                                              ("003", "add_feedback")]

    # The table we create in write mode is the CLI's, column for column.
    ours = make_db()
    with psycopg.connect(ours.direct, autocommit=True) as conn:
        supabase_history.ensure_table(conn)
    shape = ("SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
             "WHERE table_schema = 'supabase_migrations' ORDER BY ordinal_position")
    assert ours.query(shape) == db.query(shape)

    status = run_cli("status", "--database-url", db.url, "--migrations", str(MIGRATIONS))
    assert status.code == 1  # everything is pending for us
    for name in FIRST_THREE:
        line = next(line for line in status.out.splitlines() if name in line)
        assert line.startswith("pending"), line
        assert "applied by the Supabase CLI; its recorded statements match the file" in line, line
    for name in LATER:
        line = next(line for line in status.out.splitlines() if name in line)
        assert "not applied by the Supabase CLI" in line, line
    assert "baseline --from-supabase" in status.out

    refused = run_cli(*apply_args(db, MIGRATIONS, "--skip-lint"))
    assert refused.code == 1
    assert "the Supabase CLI already applied 001_initial_schema.sql, 002_add_templates.sql, 003_add_feedback.sql" \
        in refused.err
    assert "mobius-sqlcheck baseline --from-supabase" in refused.err
    assert not db.exists("mobius_sqlcheck.schema_history") or db.history() == []
    assert db.exists("public.brands") and not db.exists("public.learning_settings")

    baselined = run_cli("baseline", "--from-supabase", "--database-url", db.url, "--migrations", str(MIGRATIONS))
    assert baselined.code == 0, baselined.text
    assert db.query("SELECT version, name, method FROM mobius_sqlcheck.schema_history ORDER BY version") == [
        ("001", "initial_schema", "baseline"), ("002", "add_templates", "baseline"), ("003", "add_feedback", "baseline")]

    config = write_config(tmp_path, "write")
    applied = run_cli("apply", "--database-url", db.url, "--config", str(config), "--skip-lint")
    assert applied.code == 0, applied.text
    assert [line.split()[1] for line in applied.out.splitlines() if line.startswith("applied")] == list(LATER)
    assert db.history() == [(n.split("_", 1)[0], n.split("_", 1)[1][:-4]) for n in FIRST_THREE + LATER]
    rows = cli_rows(db)
    assert [r[:2] for r in rows] == [("001", "initial_schema"), ("002", "add_templates"), ("003", "add_feedback"),
                                     ("004", "learning_privacy"), ("005", "add_compressed_twin")]
    assert "004_storage_buckets.sql is not in the Supabase CLI's history" in applied.out
    # What we wrote is what the CLI would have: the same split of the file.
    assert rows[4][2] == supabase_history.file_statements(str(MIGRATIONS / "005_add_compressed_twin.sql"))

    # ... and the CLI agrees: every local version is also remote.
    listed = cli(supabase_cli, "migration", "list", "--db-url", f"{db.direct}?sslmode=disable", "--workdir",
                 str(cli_workdir(tmp_path / "list", mobius_files(*FIRST_THREE, LATER[0], LATER[2]))))
    assert listed.returncode == 0, listed.stderr
    pairs = re.findall(r"`(\d*)\s*`\s*\|\s*`(\d*)\s*`", listed.stdout)
    assert pairs == [(v, v) for v in ("001", "002", "003", "004", "005")], listed.stdout

    again = run_cli("status", "--database-url", db.url, "--migrations", str(MIGRATIONS))
    assert again.code == 0, again.text


def test_a_tampered_recorded_statement_is_refused(db: Db, supabase_cli: str, run_cli, tmp_path: Path) -> None:
    push(supabase_cli, db, cli_workdir(tmp_path / "cli", mobius_files(*FIRST_THREE)))
    db.query(f"UPDATE {supabase_history.TABLE} SET statements[2] = 'ALTER TABLE public.brands DISABLE ROW LEVEL "
             "SECURITY' WHERE version = '001'")
    result = run_cli("baseline", "--from-supabase", "--database-url", db.url, "--migrations", str(MIGRATIONS))
    assert result.code == 1
    assert ("001_initial_schema.sql: statement 2 differs from what the Supabase CLI recorded: recorded "
            "'ALTER TABLE public.brands DISABLE ROW LEVEL SECURITY', file has "
            "'ALTER TABLE public.brands ENABLE ROW LEVEL SECURITY'") in result.err
    assert "002_add_templates.sql" not in result.err  # only the files that differ are named
    assert not db.exists("mobius_sqlcheck.schema_history") or db.history() == []
    status = run_cli("status", "--database-url", db.url, "--migrations", str(MIGRATIONS))
    assert "recorded statement 2 differs from the file" in status.out


def test_read_only_by_default(db: Db, supabase_cli: str, run_cli, tmp_path: Path) -> None:
    push(supabase_cli, db, cli_workdir(tmp_path / "cli", mobius_files(*FIRST_THREE)))
    assert run_cli("baseline", "--from-supabase", "--database-url", db.url, "--migrations", str(MIGRATIONS)).code == 0
    result = run_cli("apply", "--database-url", db.url, "--config", str(write_config(tmp_path, "read")),
                     "--skip-lint")
    assert result.code == 0, result.text
    assert [r[0] for r in cli_rows(db)] == ["001", "002", "003"]
    assert run_cli("rollback", "--database-url", db.url, "--config", str(write_config(tmp_path, "read")),
                   "--steps", "1").code == 0
    assert [r[0] for r in cli_rows(db)] == ["001", "002", "003"]


def test_write_mode_rollback_removes_the_cli_row(db: Db, run_cli, tmp_path: Path) -> None:
    config = write_config(tmp_path, "write")
    assert run_cli("apply", "--database-url", db.url, "--config", str(config), "--skip-lint").code == 0
    assert [r[0] for r in cli_rows(db)] == ["001", "002", "003", "004", "005"]
    result = run_cli("rollback", "--database-url", db.url, "--config", str(config), "--steps", "1")
    assert result.code == 0, result.text
    assert [r[0] for r in cli_rows(db)] == ["001", "002", "003", "004"]


# Every construct the CLI's splitter treats specially, in a file PostgreSQL runs.
TRICKY = (
    "-- leading comment; with a semicolon\r\n"
    "CREATE TABLE \"semi;colon\" (id int, note text DEFAULT 'it''s; fine');\r\n"
    "/* a block; /* nested; */ still comment; */ INSERT INTO \"semi;colon\" VALUES (1, 'é;ü');\n"
    "DO $body$ BEGIN PERFORM 1; PERFORM 2; END $body$;\n"
    "CREATE FUNCTION one() RETURNS int LANGUAGE sql\n"
    "BEGIN ATOMIC\n  SELECT 1;\nEND;\n"
    "SELECT $$a;b$$, E'\\\\', (SELECT 1);;\n"
    "CREATE VIEW v AS SELECT 1 AS x -- trailing; comment\n;\n"
    "-- a comment after the last statement; the CLI keeps it\n"
)


def test_the_split_matches_the_real_cli(db: Db, supabase_cli: str, tmp_path: Path) -> None:
    push(supabase_cli, db, cli_workdir(tmp_path / "cli", {"001_tricky.sql": TRICKY}))
    [(version, name, recorded)] = cli_rows(db)
    assert (version, name) == ("001", "tricky")
    assert recorded == supabase_history.split_statements(TRICKY)
    assert len(recorded) == 7, recorded  # the trailing comment is a "statement" of its own


def test_split_statements_units() -> None:
    split = supabase_history.split_statements
    assert split("select 1;select 2") == ["select 1", "select 2"]
    assert split("  ;; \n") == []
    assert split("select ';' ; select \"a;b\"") == ["select ';'", 'select "a;b"']
    assert split("-- x;\nselect 1;") == ["-- x;\nselect 1"]
    assert split("select $t$ ; $t$;") == ["select $t$ ; $t$"]
    assert split("select (1;2);") == ["select (1;2)"]
    assert split("/* ; */ select 1 ;") == ["/* ; */ select 1"]
    assert split("select 'a'';b';") == ["select 'a'';b'"]
    assert split("select 1 -- tail") == ["select 1 -- tail"]


def test_first_mismatch() -> None:
    assert supabase_history.first_mismatch(("a", "b"), ["a", "b"]) is None
    mismatch = supabase_history.first_mismatch(("a",), ["a", "b"])
    assert mismatch is not None and (mismatch.index, mismatch.recorded, mismatch.in_file) == (1, None, "b")
    assert "statement 2 differs" in mismatch.render("001_x.sql")


def test_baseline_without_cli_history_says_so(db: Db, run_cli) -> None:
    result = run_cli("baseline", "--from-supabase", "--database-url", db.url, "--migrations", str(MIGRATIONS))
    assert result.code == 1
    assert "supabase_migrations.schema_migrations does not exist or is empty" in result.err


def test_supabase_history_config_is_read_or_write() -> None:
    from mobius_sqlcheck.config import config_from_table
    from mobius_sqlcheck.errors import UsageError

    assert config_from_table({}).supabase_history == "read"
    assert config_from_table({"supabase_history": "write"}).supabase_history == "write"
    with pytest.raises(UsageError, match="supabase_history must be one of read, write"):
        config_from_table({"supabase_history": "yes"})


def test_a_history_from_an_old_cli_without_statements(db: Db, run_cli) -> None:
    """Old CLIs created the table with the version column only; the later
    columns were added empty. Such rows match by version, and baseline cannot
    check them: it says so and points to `baseline --to`."""
    db.query("CREATE SCHEMA supabase_migrations; "
             "CREATE TABLE supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY); "
             "INSERT INTO supabase_migrations.schema_migrations VALUES ('001')")
    refused = run_cli(*apply_args(db, MIGRATIONS, "--skip-lint"))
    assert refused.code == 1 and "the Supabase CLI already applied 001_initial_schema.sql to this database" in refused.err
    status = run_cli("status", "--database-url", db.url, "--migrations", str(MIGRATIONS))
    assert "applied by the Supabase CLI (no statements recorded to compare)" in status.out
    result = run_cli("baseline", "--from-supabase", "--database-url", db.url, "--migrations", str(MIGRATIONS))
    assert result.code == 1
    assert "001_initial_schema.sql: the Supabase CLI recorded no statements to check it against" in result.err
    assert "baseline --to VERSION" in result.err

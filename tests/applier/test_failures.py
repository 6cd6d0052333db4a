"""Errors a user can act on: the failing statement's file:line:column and the
server's message; nothing of the failed migration stays, earlier ones do,
later ones never run; an edited applied migration is refused; bad URLs get a
clear message and a password is never printed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.applier.helpers import PASSWORD, Db, apply_args, write_migrations

GOOD_1 = "CREATE TABLE one (id int PRIMARY KEY);\n"
FAILING_2 = (
    "-- a comment line first\n"
    "CREATE TABLE two (id int PRIMARY KEY);\n"
    "INSERT INTO two VALUES (1);\n"
    "\n"
    "SELECT id,\n"
    "       no_such_column\n"
    "FROM two;\n"
)
GOOD_3 = "CREATE TABLE three (id int);\n"


def _three(tmp_path: Path, second: str = FAILING_2) -> Path:
    return write_migrations(tmp_path / "migrations", {
        "001_one.sql": GOOD_1, "002_two.sql": second, "003_three.sql": GOOD_3,
    })


def test_failing_statement_position_and_nothing_left(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = _three(tmp_path)
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 1
    # line 6, column 8: `no_such_column` inside the statement that starts on line 5
    assert f"{migrations / '002_two.sql'}:6:8: column \"no_such_column\" does not exist" in result.err
    assert "nothing of it stays" in result.err and "1 later migration(s) not run" in result.err
    assert db.history() == [("001", "one")]
    assert db.exists("public.one")
    assert not db.exists("public.two")  # the whole transaction rolled back
    assert not db.exists("public.three")


def test_failure_without_position_names_the_statement(db: Db, run_cli, tmp_path: Path) -> None:
    second = "CREATE TABLE two (id int CHECK (id > 0));\n\n  INSERT INTO two VALUES (1);\n  INSERT INTO two VALUES (-1);\n"
    migrations = _three(tmp_path, second)
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 1
    assert f"{migrations / '002_two.sql'}:4:3: new row for relation \"two\" violates check constraint" in result.err
    assert "detail: Failing row contains (-1)" in result.err


def test_failure_position_in_non_ascii_file(db: Db, run_cli, tmp_path: Path) -> None:
    second = "-- café ☕\nCREATE TABLE two (note text DEFAULT 'naïve');\nSELECT 'ü', nope FROM two;\n"
    migrations = _three(tmp_path, second)
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert f"{migrations / '002_two.sql'}:3:13:" in result.err  # columns count characters


def test_failure_json(db: Db, run_cli, tmp_path: Path) -> None:
    result = run_cli(*apply_args(db, _three(tmp_path), "--skip-lint", "--format", "json"))
    document = json.loads(result.out)
    assert document["ok"] is False
    assert document["error"]["statement"]["line"] == 6
    assert document["error"]["statement"]["sqlstate"] == "42703"
    assert [m["action"] for m in document["migrations"]] == ["applied", "failed"]


def test_edited_applied_migration_is_refused(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {"001_one.sql": GOOD_1})
    assert run_cli(*apply_args(db, migrations, "--skip-lint")).code == 0
    (migrations / "001_one.sql").write_text(GOOD_1 + "-- edited\n", encoding="utf-8")
    (migrations / "002_two.sql").write_text("CREATE TABLE two (id int);\n", encoding="utf-8")
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 1
    assert "001_one.sql was modified after it was applied" in result.err
    assert not db.exists("public.two")  # refused before anything ran
    status = run_cli("status", "--database-url", db.url, "--migrations", str(migrations))
    assert status.code == 1
    assert "modified     001_one.sql" in status.out and "pending      002_two.sql" in status.out


def test_missing_file_shows_in_status(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {"001_one.sql": GOOD_1, "002_two.sql": GOOD_3})
    assert run_cli(*apply_args(db, migrations, "--skip-lint")).code == 0
    (migrations / "002_two.sql").unlink()
    status = run_cli("status", "--database-url", db.url, "--migrations", str(migrations))
    assert status.code == 1 and "missing      002_two.sql" in status.out


def test_wrong_password(db: Db, run_cli, tmp_path: Path) -> None:
    wrong = "Wrong-pass-3b1d"
    url = db.url.replace(PASSWORD, wrong)
    for fmt in ("text", "json"):
        result = run_cli("apply", "--database-url", url, "--migrations", str(_three(tmp_path)), "--skip-lint",
                         "--format", fmt)
        assert result.code == 1
        assert "cannot connect to postgresql://postgres:***@127.0.0.1" in result.err
        assert "authentication failed" in result.err
        assert "hint: check the URL and credentials" in result.err
        assert wrong not in result.text and PASSWORD not in result.text


def test_wrong_port(db: Db, run_cli, tmp_path: Path) -> None:
    from mobius_sqlcheck.applier.ephemeral import free_port

    url = db.url.replace(f":{db.servers.pooler_port}/", f":{free_port()}/")
    result = run_cli("status", "--database-url", url, "--migrations", str(_three(tmp_path)))
    assert result.code == 1
    assert "cannot connect" in result.err and "Connection refused" in result.err
    # On loopback the Supabase pooler hint would only mislead.
    assert "hint: check the URL and credentials, and that the server (or the pooler) runs on this machine" in result.err
    assert "supabase" not in result.err.lower() and "6543" not in result.err
    assert PASSWORD not in result.text


def test_direct_url_is_refused_before_connecting(run_cli, tmp_path: Path) -> None:
    url = f"postgresql://postgres:{PASSWORD}@db.abcdefghij.supabase.co:5432/postgres"
    result = run_cli("apply", "--database-url", url, "--migrations", str(_three(tmp_path)))
    assert result.code == 2
    assert "is not the transaction pooler" in result.err and "--allow-direct" in result.err
    assert "direct Supabase host" in result.err and "port 5432" in result.err
    assert PASSWORD not in result.text


def test_allow_direct_only_warns(db: Db, run_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db.url)
    result = run_cli("status", "--allow-direct", "--migrations", str(_three(tmp_path)))
    assert result.code == 1  # pending, but it connected (loopback: no warning needed)
    assert "pending" in result.out


def test_database_url_from_environment(db: Db, run_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SUPABASE_URL", "https://abcdefghij.supabase.co")  # an API URL: not a database
    result = run_cli("status", "--migrations", str(_three(tmp_path)))
    assert result.code == 2 and "no database" in result.err
    monkeypatch.setenv("SUPABASE_URL", db.url)
    assert "pending" in run_cli("status", "--migrations", str(_three(tmp_path))).out


def test_lint_errors_refuse_apply(db: Db, run_cli, tmp_path: Path) -> None:
    long_name = "t" * 64  # MSC203: PostgreSQL would silently truncate it
    migrations = write_migrations(tmp_path / "migrations", {"001_one.sql": f"CREATE TABLE {long_name} (id int);\n"})
    result = run_cli(*apply_args(db, migrations))
    assert result.code == 1
    assert "MSC203" in result.err and "--skip-lint" in result.err
    assert not db.exists("mobius_sqlcheck.schema_history")
    assert run_cli(*apply_args(db, migrations, "--skip-lint")).code == 0


def test_transaction_control_refused_even_without_lint(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {
        "001_one.sql": "CREATE TABLE one (id int);\nCOMMIT;\nCREATE TABLE two (id int);\n",
    })
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 1
    assert "001_one.sql:2:1: MSC503 COMMIT inside a migration ends the applier's transaction early" in result.err
    assert not db.exists("public.one")


def test_permission_denied_hint(db: Db, run_cli, tmp_path: Path) -> None:
    db.query("CREATE SCHEMA locked; REVOKE ALL ON SCHEMA locked FROM PUBLIC")
    db.query("CREATE ROLE app_reader LOGIN")
    migrations = write_migrations(tmp_path / "migrations", {"001_one.sql": "CREATE TABLE locked.one (id int);\n"})
    db.query("GRANT CREATE ON DATABASE " + db.name + " TO app_reader")
    url = db.direct.replace("postgres@", "app_reader@")
    result = run_cli(*apply_args(db, migrations, "--skip-lint")[:1], "--database-url", url,
                     "--migrations", str(migrations), "--skip-lint")
    assert result.code == 1
    assert "permission denied for schema locked" in result.err
    assert "a database role that may create tables" in result.err, result.err


def test_storage_missing_hint(db: Db, run_cli, tmp_path: Path) -> None:
    db.query("DROP SCHEMA storage CASCADE")
    migrations = write_migrations(tmp_path / "migrations", {
        "001_buckets.sql": "INSERT INTO storage.buckets (id, name) VALUES ('b', 'b');\n",
    })
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 1
    assert "001_buckets.sql:1:13: relation \"storage.buckets\" does not exist" in result.err
    assert "Storage is not enabled" in result.err

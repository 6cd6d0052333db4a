"""Never a password in any output (the README's promise): every command, every
format, every error path, and every file the tool writes.

A distinctive password is put where each command meets one: in files the
linter reads, in --database-url (URI, key=value, ?password=, percent-encoded),
in DATABASE_URL, in arguments given in the wrong place, in exceptions a rule
or the crash handler sees, and in what the database driver and server say
back: a closed loopback port (connection refused), the real PgBouncer of
tests/conftest.py with a wrong password, and a real run whose
migrations make the server quote it. Then stdout, stderr, the JSON and SARIF
documents and every file under MOBIUS_SQLCHECK_LOG_DIR and the project are
searched for it, raw and percent-encoded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest

from mobius_sqlcheck.applier.ephemeral import free_port
from mobius_sqlcheck.cli import main
from mobius_sqlcheck.rules import EXTRA_RULES_ENV
from tests.applier.helpers import PASSWORD as FIXTURE_PASSWORD
from tests.applier.helpers import Db

REPO = Path(__file__).resolve().parent.parent
SECRET = "S3cr3t-Pa55w0rd-xyzzy"
FORMS = (SECRET, quote(SECRET, safe=""), SECRET.replace("-", "%2D"), SECRET.replace("-", "%2d"))
COMMANDS = [
    ["apply", "--skip-lint"],
    ["apply", "--dry-run"],
    ["status"],
    ["rollback", "--steps", "1"],
    ["verify"],
    ["baseline", "--to", "001"],
]
MIGRATION = "CREATE TABLE public.notes (id bigint PRIMARY KEY);\n"
ROLLBACK = "DROP TABLE IF EXISTS public.notes;\n"


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in text, f"password ({form}) in output:\n{text}"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project (the cwd) with one migration; logs go to tmp_path/logs. At
    the end, no file the tool wrote (logs, caches, SARIF...) holds the password;
    the tests' own inputs that hold it have "input" in their name."""
    (tmp_path / "pyproject.toml").write_text("[tool.mobius_sqlcheck]\n", encoding="utf-8")
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_notes.sql").write_text(MIGRATION, encoding="utf-8")
    (migrations / "001_notes_rollback.sql").write_text(ROLLBACK, encoding="utf-8")
    (tmp_path / "logs").mkdir()
    monkeypatch.setenv("MOBIUS_SQLCHECK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    for path in tmp_path.rglob("*"):
        if path.is_file() and "input" not in path.name:  # inputs hold the password on purpose
            assert_no_secret(path.read_bytes().decode("utf-8", "replace"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert_no_secret(captured.out, captured.err)
    return code, captured.out, captured.err


def run_process(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    completed = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", *argv], capture_output=True, text=True,
                               timeout=120, check=False, env=environment, cwd=cwd)
    assert "Traceback" not in completed.stdout + completed.stderr
    assert_no_secret(completed.stdout, completed.stderr)
    return completed


# -- lint: files holding passwords ------------------------------------------------------

LEAKY_FILES = {
    # "input" in a file name: it holds the password on purpose.
    "input-settings.env": f"DATABASE_URL=postgresql://postgres:{SECRET}@db.abcdefghij.supabase.co:5432/postgres\n"
                          f"PGPASSWORD={SECRET}\n",
    "input-encoded.env": f"DIRECT=postgres://app:{quote(SECRET, safe='')}@db.abcdefghij.supabase.co/postgres\n",
    "input-config.yaml": f"database:\n  dsn: \"host=db.abcdefghij.supabase.co port=5432 password={SECRET} user=app\"\n",
    "input-job.py": f"URL = 'postgresql+psycopg://app:{SECRET}@db.abcdefghij.supabase.co:5432/app?sslmode=require'\n",
    "migrations/002_input_dblink.sql":
        f"SELECT dblink_connect('postgresql://app:{SECRET}@db.abcdefghij.supabase.co:5432/app');\n"
        f"\\connect postgresql://app:{SECRET}@db.abcdefghij.supabase.co/app\n"
        f"ALTER ROLE app WITH PASSWORD '{SECRET}';\n",
    "migrations/002_input_dblink_rollback.sql":
        f"SELECT 'postgresql://app:{SECRET}@db.abcdefghij.supabase.co:5432/app' oops;\n"
        f"SELECT 'unterminated postgresql://app:{SECRET}@db.abcdefghij.supabase.co:5432/app;\n",
}


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_lint_never_prints_a_password_it_found(project, capsys, fmt) -> None:
    for name, text in LEAKY_FILES.items():
        (project / name).write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "lint", "--format", fmt, "--sarif-file", "out.sarif", *LEAKY_FILES)
    assert code == 1
    for rule in ("MSC001", "MSC501", "MSC505"):
        assert rule in out
    assert "***" in out
    if fmt in ("json", "sarif"):
        json.loads(out)
    sarif = json.loads((project / "out.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"]


def test_syntax_error_quoting_a_url_is_masked_before_it_is_shortened(project, capsys) -> None:
    """A syntax error quotes 40 characters of the text: cut first, the URL
    would lose its `@` and escape the mask with most of the password."""
    (project / "migrations" / "002_input_x.sql").write_text(f"SELECT 'postgresql://u:{SECRET}@h/d\n")
    code, out, _ = run(capsys, "lint", "--format", "json", "migrations/002_input_x.sql")
    (error,) = [d for d in json.loads(out)["diagnostics"] if d["rule"] == "MSC001"]
    assert error["message"] == "unterminated quoted string at or near \"'postgresql://u:***@h/d...\""
    assert_no_secret(SECRET[:12])  # not even most of it: checked on the whole output by run()
    assert SECRET[:12] not in out


# -- lint: usage errors and crashes ----------------------------------------------------------

URL = f"postgresql://postgres:{SECRET}@127.0.0.1:6543/postgres"


@pytest.mark.parametrize("argv", [
    ["apply", URL],  # --database-url forgotten: argparse's "unrecognized arguments"
    ["status", "--format", f"host=h password={SECRET}"],  # argparse's "invalid choice"
    ["lint", URL],  # "no such file or directory"
    ["lint", "--config", URL],
    ["lint", "--sarif-file", f"{URL}/out.sarif", "migrations/001_notes.sql"],
    ["apply", "--database-url", f"postgresql://postgres:{SECRET}@[::1/postgres"],  # invalid URL
    ["apply", "--database-url", f"host=h password={SECRET} nonsense"],
])
def test_usage_errors_mask_the_password_they_quote(project, capsys, argv) -> None:
    try:
        code, _, err = run(capsys, *argv)
    except SystemExit as exit:  # argparse
        captured = capsys.readouterr()
        assert_no_secret(captured.out, captured.err)
        code, err = exit.code, captured.err
    assert code == 2 and "error:" in err


def _rule_package(root: Path, body: str) -> str:
    package = root / "rule_packages" / f"leaky_rules_input_{abs(hash(body))}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "msc995_input_leaky.py").write_text(textwrap.dedent(body))
    return package.name


LEAKY_RULE = f'''
    """Raises with a connection string in its message.

    ## What it does
    Fails. ## Why is this bad? Test. ## Example x ## Use instead y
    """
    CODE = "MSC995"
    NAME = "leaky"
    SEVERITY = "warning"
    NODE_TYPES = ("*",)

    def check_statement(statement, ctx):
        raise ValueError("cannot reach postgresql://app:{SECRET}@db.example.com:5432/app")
'''


def test_internal_error_message_is_masked(project, capsys, monkeypatch) -> None:
    name = _rule_package(project, LEAKY_RULE)
    monkeypatch.syspath_prepend(str(project / "rule_packages"))
    monkeypatch.setenv(EXTRA_RULES_ENV, name)
    code, out, _ = run(capsys, "lint", "--format", "json", "migrations/001_notes.sql")
    assert code == 1
    (internal,) = [d for d in json.loads(out)["diagnostics"] if d["rule"] == "MSC004"]
    assert "postgresql://app:***@db.example.com" in internal["message"]


def test_crash_message_and_log_are_masked(project) -> None:
    """A real crash (a rule module that fails to import): exit 3, one line on
    stderr, the traceback in a log under MOBIUS_SQLCHECK_LOG_DIR; the
    password is in the exception and in the source line the traceback quotes."""
    name = _rule_package(project, f'''
        """Fails on import."""
        raise RuntimeError("cannot reach postgresql://app:{SECRET}@db.example.com:5432/app password={SECRET}")
    ''')
    logs = project / "logs"
    completed = run_process("lint", "migrations/001_notes.sql", cwd=project,
                            env={EXTRA_RULES_ENV: name, "MOBIUS_SQLCHECK_LOG_DIR": str(logs),
                                 "PYTHONPATH": os.pathsep.join([str(project / "rule_packages"), str(REPO)])})
    assert completed.returncode == 3
    assert "internal error: RuntimeError: cannot reach postgresql://app:***@db.example.com" in completed.stderr
    (log,) = logs.iterdir()
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "password=***" in text
    assert_no_secret(text)


# -- the database commands: a closed port ---------------------------------------------------


def _closed_port_urls() -> list[str]:
    port = free_port()
    return [
        f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/postgres",
        f"postgres://postgres:{quote(SECRET, safe='')}@localhost:{port}/postgres?sslmode=disable",
        f"postgresql://postgres@127.0.0.1:{port}/postgres?password={SECRET}&application_name=x",
        f"host=127.0.0.1 port={port} user=postgres password={SECRET} dbname=postgres",
        f"host=127.0.0.1 port={port} user=postgres password='{SECRET} with space' dbname=postgres",
        f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/postgres?sslmode=bogus",  # libpq rejects the option
    ]


@pytest.mark.parametrize("url_index", range(6))
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_database_commands_on_a_closed_port(project, capsys, command, url_index) -> None:
    url = _closed_port_urls()[url_index]
    for fmt in ("text", "json"):
        code, out, err = run(capsys, *command, "--database-url", url, "--migrations", "migrations", "--format", fmt)
        assert code == 1, out + err
        assert "cannot connect to" in err and "***" in err


def test_database_url_from_the_environment(project, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", _closed_port_urls()[0])
    for command in COMMANDS:
        code, _, err = run(capsys, *command, "--migrations", "migrations")
        assert code == 1 and "cannot connect to postgresql://postgres:***@127.0.0.1" in err


def test_database_commands_in_a_real_process(project) -> None:
    url = _closed_port_urls()[0]
    for command in COMMANDS:
        completed = run_process(*command, "--database-url", url, "--migrations", "migrations", "--format", "json",
                                cwd=project, env={"MOBIUS_SQLCHECK_LOG_DIR": str(project / "logs")})
        assert completed.returncode == 1, completed.stderr


# -- the database commands: real PostgreSQL and PgBouncer ------------------------------------


def test_wrong_password_through_the_pooler(project, capsys, db: Db) -> None:
    """PgBouncer asks for a password (scram-sha-256); ours is wrong."""
    url = db.url.replace(FIXTURE_PASSWORD, SECRET)
    assert SECRET in url
    for command in COMMANDS:
        for fmt in ("text", "json"):
            code, out, err = run(capsys, *command, "--database-url", url, "--migrations", "migrations",
                                 "--format", fmt)
            assert code == 1, out + err
            assert "authentication failed" in err and "postgres:***@127.0.0.1" in err
            assert_no_secret(out + err, FIXTURE_PASSWORD)


def test_real_runs_and_server_errors_quoting_the_password(project, capsys, db: Db) -> None:
    """Straight to PostgreSQL (loopback, trust: any password is accepted),
    so every command really runs with our password in its URL; a migration
    makes the server quote the password and the URL in its errors."""
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{db.servers.pg_port}/{db.name}"
    migrations = project / "migrations"
    (migrations / "002_input_leak.sql").write_text(
        "DO $$ BEGIN RAISE EXCEPTION 'cannot reach %', "
        f"'postgresql://app:{SECRET}@db.example.com/app (password {SECRET})'; END $$;\n")
    (migrations / "002_input_leak_rollback.sql").write_text("SELECT 1;\n")
    (migrations / "003_input_cast.sql").write_text(f"SELECT '{SECRET}'::int;\n")
    (migrations / "003_input_cast_rollback.sql").write_text("SELECT 1;\n")
    base = ["--database-url", url, "--migrations", "migrations"]
    for fmt in ("text", "json"):
        code, out, err = run(capsys, "apply", "--skip-lint", *base, "--format", fmt, "--target", "002")
        assert code == 1 and "cannot reach" in out + err and "***" in out + err
    (migrations / "002_input_leak.sql").write_text("SELECT 2;\n")
    code, out, err = run(capsys, "apply", "--skip-lint", *base, "--target", "002")
    assert code == 0, out + err
    code, out, err = run(capsys, "apply", "--skip-lint", *base, "--format", "json")
    assert code == 1 and "invalid input syntax for type integer" in out + err
    (migrations / "003_input_cast.sql").write_text("SELECT 3;\n")
    for argv in (["status"], ["verify"], ["apply", "--skip-lint"], ["rollback", "--steps", "1"],
                 ["baseline", "--to", "003"], ["status", "--format", "json"], ["verify", "--format", "json"]):
        code, out, err = run(capsys, *argv, *base)
        assert code in (0, 1), out + err
        assert "postgres:***@127.0.0.1" in out + err or '"database"' in out

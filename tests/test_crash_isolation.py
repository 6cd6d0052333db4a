"""A rule that raises loses nothing else: the run reports MSC004 naming the
rule and the place, keeps every other finding, and never exits 0, even with
MSC004 ignored, turned off or suppressed.

The failing rules (tests/failing_rules.py) are real rule modules in a throwaway package, discovered
through MOBIUS_SQLCHECK_EXTRA_RULES, which the command line reads on every
invocation and passes to the pipeline as its rule registry (see
mobius_sqlcheck/rules/__init__.py): nothing of the pipeline is mocked.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mobius_sqlcheck.cli import main
from mobius_sqlcheck.rules import EXTRA_RULES_ENV
from tests.failing_rules import write_rule_package

REPO = Path(__file__).resolve().parent.parent
_packages = itertools.count(1)

FORWARD = """\
CREATE TABLE public.boom (id bigint PRIMARY KEY);
ALTER TABLE public.boom ENABLE ROW LEVEL SECURITY;
SELECT 'explode here';
ALTER TABLE public.brands ADD COLUMN note text NOT NULL;
CREATE INDEX badly_named ON public.boom (id);
"""


@pytest.fixture
def failing_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package of failing rules on sys.path and in MOBIUS_SQLCHECK_EXTRA_RULES."""
    name = f"mobius_failing_rules_{next(_packages)}_{os.getpid()}"
    write_rule_package(tmp_path / "rule_packages", name)
    monkeypatch.syspath_prepend(str(tmp_path / "rule_packages"))
    monkeypatch.setenv(EXTRA_RULES_ENV, name)
    return name


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.mobius_sqlcheck]\n", encoding="utf-8")
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_boom.sql").write_text(FORWARD, encoding="utf-8")
    (migrations / "001_boom_rollback.sql").write_text("DROP TABLE IF EXISTS public.boom;\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict], str]:
    code = main(["lint", "--format", "json", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, json.loads(captured.out)["diagnostics"], captured.err


def _at(diagnostics: list[dict], rule: str) -> list[tuple[str, int, int]]:
    return [(d["path"], d["line"], d["column"]) for d in diagnostics if d["rule"] == rule]


def test_a_rule_raising_on_one_statement_keeps_every_other_finding(failing_rules, project, capsys) -> None:
    code, diagnostics, _ = _lint(capsys, "migrations/001_boom.sql")
    assert code == 1
    internal = [d for d in diagnostics if d["rule"] == "MSC004"]
    on_statement = [d for d in internal if "MSC990" in d["message"]]
    assert [(d["line"], d["column"]) for d in on_statement] == [(3, 1)]
    assert "boom-statement" in on_statement[0]["message"] and "ValueError: boom on purpose" in on_statement[0]["message"]
    assert on_statement[0]["severity"] == "error"
    # The same rule still ran on the other statements, and the other rules on all of them.
    assert _at(diagnostics, "MSC301") == [("migrations/001_boom.sql", 4, 38)]
    assert _at(diagnostics, "MSC201") == [("migrations/001_boom.sql", 5, 14)]
    # Every scope's failure is reported, naming its rule.
    messages = " | ".join(d["message"] for d in internal)
    for rule in ("MSC991 (boom-file)", "MSC992 (boom-history)", "MSC994 (boom-migrations)"):
        assert rule in messages


@pytest.mark.parametrize("switch_off", [
    ["--ignore", "MSC004"],
    ["--ignore", "MSC0"],
    ["--select", "MSC990"],
    ["--config", "off.toml"],
])
def test_msc004_cannot_be_switched_off(failing_rules, project, capsys, switch_off) -> None:
    (project / "off.toml").write_text('[tool.mobius_sqlcheck]\nseverity = { MSC004 = "off" }\nignore = ["MSC004"]\n')
    code, diagnostics, _ = _lint(capsys, *switch_off, "migrations/001_boom.sql")
    assert code == 1
    assert ("migrations/001_boom.sql", 3, 1) in _at(diagnostics, "MSC004")


def test_a_suppression_comment_does_not_hide_msc004(failing_rules, project, capsys) -> None:
    path = project / "migrations" / "001_boom.sql"
    path.write_text("-- mobius-sqlcheck: ignore MSC004, MSC990\nSELECT 'explode here';\n", encoding="utf-8")
    code, diagnostics, _ = _lint(capsys, "--select", "MSC990,MSC009", "migrations/001_boom.sql")
    assert code == 1
    assert _at(diagnostics, "MSC004") == [("migrations/001_boom.sql", 2, 1)]
    assert "suppression of MSC004 suppressed nothing" in [d["message"] for d in diagnostics if d["rule"] == "MSC009"]


def test_the_only_finding_being_a_crash_still_fails(failing_rules, project, capsys) -> None:
    (project / "migrations" / "001_boom.sql").write_text("SELECT 1;\n  SELECT 'explode here';\n")
    code, diagnostics, _ = _lint(capsys, "--select", "MSC990", "migrations/001_boom.sql")
    assert code == 1
    assert [(d["rule"], d["line"], d["column"]) for d in diagnostics] == [("MSC004", 2, 3)]


def test_a_rule_calling_sys_exit_does_not_end_the_run(failing_rules, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text("boom\nDATABASE_URL=postgresql://u@db.abc.supabase.co:5432/postgres\n")
    code, diagnostics, _ = _lint(capsys, ".env")
    assert code == 1
    assert [d["rule"] for d in diagnostics] == ["MSC004", "MSC501"]
    assert "MSC993 (boom-text) failed here: SystemExit: 0" in diagnostics[0]["message"]


def test_ignoring_the_failing_rule_is_the_workaround(failing_rules, project, capsys) -> None:
    code, diagnostics, _ = _lint(capsys, "--ignore", "MSC99", "migrations/001_boom.sql")
    assert _at(diagnostics, "MSC004") == []
    assert {d["rule"] for d in diagnostics} >= {"MSC301", "MSC201"}
    assert main(["lint", "--ignore", "MSC99", "--select", "MSC201,MSC990", "migrations/001_boom.sql"]) == 0


@pytest.mark.parametrize("fmt", ["text", "sarif", "github"])
def test_every_format_shows_the_crash(failing_rules, project, capsys, fmt) -> None:
    assert main(["lint", "--format", fmt, "migrations/001_boom.sql"]) == 1
    out = capsys.readouterr().out
    assert "MSC004" in out and "MSC990" in out and "MSC301" in out


def test_in_a_real_process(failing_rules, project) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(project / "rule_packages"), str(REPO)]))
    completed = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", "--ignore", "MSC004",
                                "migrations/001_boom.sql"], cwd=project, env=env, capture_output=True, text=True,
                               check=False)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "migrations/001_boom.sql:3:1: MSC004 rule MSC990 (boom-statement) failed here" in completed.stdout
    assert "MSC301" in completed.stdout
    assert "Traceback" not in completed.stdout + completed.stderr


def test_an_unimportable_rule_package_is_a_usage_error(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(EXTRA_RULES_ENV, "no_such_package_xyz")
    Path("a.sql").write_text("SELECT 1;\n")
    assert main(["lint", "a.sql"]) == 2
    assert "cannot import rule package 'no_such_package_xyz'" in capsys.readouterr().err

"""The command line: exit codes, config errors, rules and explain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mobius_sqlcheck.cli import main
from mobius_sqlcheck.rules import all_rules

REPO = Path(__file__).resolve().parent.parent


def _project(tmp_path: Path, files: dict[str, str], config: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.mobius_sqlcheck]\n{config}\n", encoding="utf-8")
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for name, text in files.items():
        (migrations / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_own_migrations_pass_with_default_settings() -> None:
    completed = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint"], cwd=REPO,
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no problems" in completed.stdout


def test_warnings_exit_0_unless_fail_on_warning(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(_project(tmp_path, {"001_a.sql": "SELECT 1;", "003_c.sql": "SELECT 1;"},
                               'select = ["MSC103"]'))
    assert main(["lint"]) == 0
    assert main(["lint", "--fail-on", "warning"]) == 1
    assert "MSC103" in capsys.readouterr().out


def test_errors_exit_1(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(_project(tmp_path, {"001_a.sql": "SELECT (;"}))
    assert main(["lint", "--select", "MSC001"]) == 1
    assert main(["lint", "--ignore", "MSC001", "--select", "MSC0"]) == 0


@pytest.mark.parametrize(("config", "key"), [
    ('select = ["MSC999"]', "tool.mobius_sqlcheck.select"),
    ('index_name_pattern = "idx_("', "tool.mobius_sqlcheck.index_name_pattern"),
    ('pooler_port = "6543"', "tool.mobius_sqlcheck.pooler_port"),
    ("pooler_port = true", "tool.mobius_sqlcheck.pooler_port"),
    ('fail_on = "info"', "tool.mobius_sqlcheck.fail_on"),
    ('severity = { MSC301 = "fatal" }', "tool.mobius_sqlcheck.severity.MSC301"),
    ('no_such_key = 1', "tool.mobius_sqlcheck.no_such_key"),
    ('grandfathered_duplicate_versions = [4]', "tool.mobius_sqlcheck.grandfathered_duplicate_versions"),
])
def test_bad_config_exits_2_naming_the_key(tmp_path, monkeypatch, capsys, config, key) -> None:
    monkeypatch.chdir(_project(tmp_path, {"001_a.sql": "SELECT 1;"}, config))
    assert main(["lint"]) == 2
    error = capsys.readouterr().err
    assert key in error and "Traceback" not in error


def test_unknown_selector_on_command_line_exits_2(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(_project(tmp_path, {"001_a.sql": "SELECT 1;"}))
    assert main(["lint", "--select", "MSC9"]) == 2
    assert "--select" in capsys.readouterr().err


def test_missing_path_exits_2(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "nope.sql"]) == 2
    assert "no such file or directory: nope.sql" in capsys.readouterr().err


def test_only_given_files_are_reported_but_directory_is_context(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(_project(tmp_path, {"001_a.sql": "SELECT (;", "002_b.sql": "SELECT 1;"}))
    assert main(["lint", "--format", "json", "--select", "MSC0", "migrations/002_b.sql"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["diagnostics"] == [] and document["summary"]["files"] == 1


def test_rules_lists_every_rule_and_explain_prints_docs(capsys) -> None:
    assert main(["rules", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [rule["code"] for rule in listed] == list(all_rules())
    assert main(["explain", "msc201"]) == 0
    docs = capsys.readouterr().out
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in docs
    assert main(["explain", "MSC000"]) == 2


@pytest.mark.parametrize("code", list(all_rules()))
def test_every_rule_has_the_four_doc_sections(code: str) -> None:
    rule = all_rules()[code]
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in rule.docs, f"{code} lacks {section}"
    assert rule.severity in ("error", "warning", "off")
    assert rule.code.startswith("MSC") and rule.name == rule.name.lower()

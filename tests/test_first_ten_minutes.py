"""What a new user meets first: commands that check nothing refuse to pass,
configuration errors surface when it is read, help and rule docs speak of
your project, and every document stays inside the clone."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path

import pytest

from mobius_sqlcheck.cli import COMMANDS, build_parser, main
from mobius_sqlcheck.rules import all_rules

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.mobius_sqlcheck]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- nothing to check is not a pass ---------------------------------------------------------


@pytest.mark.parametrize("layout", ["empty", "only-other-files", "default-migrations-empty"])
def test_lint_with_nothing_to_check_is_a_usage_error(project: Path, capsys, layout: str) -> None:
    target = project / "migrations"
    target.mkdir()
    if layout == "only-other-files":
        (target / "notes.bin").write_bytes(b"\x00\x01")
    code = main(["lint"] if layout == "default-migrations-empty" else ["lint", "migrations"])
    err = capsys.readouterr().err
    assert code == 2
    assert "nothing to lint in migrations" in err and "migrations, other .sql files and text files" in err


def test_lint_on_a_mistyped_path_is_a_usage_error(project: Path, capsys) -> None:
    assert main(["lint", "migratoins"]) == 2
    assert "no such file or directory: migratoins" in capsys.readouterr().err


def test_lock_refuses_an_empty_set(project: Path, capsys) -> None:
    (project / "migrations").mkdir()
    assert main(["lock"]) == 2
    assert "no migrations in migrations: nothing to lock" in capsys.readouterr().err
    assert not (project / "migrations" / "sqlcheck.sum").exists()


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["statement_timeout", "lock_timeout"])
@pytest.mark.parametrize("value", ["forever", "10 seconds", "-5s", "", "15 min utes"])
def test_every_duration_is_validated_when_the_config_is_read(project: Path, capsys, key: str, value: str) -> None:
    (project / "pyproject.toml").write_text(f'[tool.mobius_sqlcheck]\n{key} = "{value}"\n', encoding="utf-8")
    (project / "notes.md").write_text("nothing\n", encoding="utf-8")
    assert main(["lint", "notes.md"]) == 2  # not only at `apply`
    err = capsys.readouterr().err
    assert f"tool.mobius_sqlcheck.{key}" in err and "is not a duration" in err


@pytest.mark.parametrize("value", ["15min", "10s", "250ms", "1.5s", "0", "2h", "1d", "500"])
def test_durations_postgresql_accepts_pass(project: Path, value: str) -> None:
    (project / "pyproject.toml").write_text(f'[tool.mobius_sqlcheck]\nstatement_timeout = "{value}"\n'
                                            f'lock_timeout = "{value}"\n', encoding="utf-8")
    (project / "notes.md").write_text("nothing\n", encoding="utf-8")
    assert main(["lint", "notes.md"]) == 0


# -- words for any project -------------------------------------------------------------------

MOBIUS = re.compile(r"\bMobius\b(?![_-])")


def test_help_and_rule_docs_speak_of_your_project() -> None:
    """Mobius appears only in examples that are about the Mobius migrations."""
    for command in COMMANDS:
        parser = build_parser(command)
        sub = next(a for a in parser._actions if a.dest == "command").choices[command]
        text = sub.format_help()
        assert not MOBIUS.search(text), (command, text)
        assert "README" not in text, (command, text)
    for rule in all_rules().values():
        what_and_why = rule.docs.split("## Example")[0]
        assert not MOBIUS.search(what_and_why), rule.code


def test_sarif_names_no_placeholder_home(project: Path, capsys) -> None:
    (project / "notes.md").write_text("nothing\n", encoding="utf-8")
    main(["lint", "--format", "sarif", "notes.md"])
    driver = json.loads(capsys.readouterr().out)["runs"][0]["tool"]["driver"]
    assert "informationUri" not in driver  # no public home yet: omitted, never a placeholder


# -- the repository is self-contained -----------------------------------------------------------


def _tracked_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return [REPO / name for name in names if (REPO / name).is_file()]


def test_no_document_or_code_points_outside_the_clone() -> None:
    # Spelled in pieces so that this file does not match itself.
    outside = re.compile(r"\.\./" + "shared" + "|/" + "work/")
    for path in _tracked_files():
        if path.suffix in (".md", ".py", ".yaml", ".yml", ".toml", ".sql", ".txt", ".sh"):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not outside.search(text), f"{path.relative_to(REPO)} points outside the repository"


def test_markdown_links_resolve_inside_the_clone() -> None:
    for path in _tracked_files():
        if path.suffix != ".md":
            continue
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (path.parent / target).exists(), f"{path.relative_to(REPO)} links to missing {target}"


def test_migrations_readme_states_the_schema_it_relies_on() -> None:
    text = (REPO / "migrations" / "README.md").read_text(encoding="utf-8")
    section = text.split("## The schema", 1)[1].split("\n## ", 1)[0]
    for fact in ("brands", "compressed_twin", "learning_settings", "idx_jobs_idempotency",
                 "feedback_learning_trigger", "52428800", "10485760", "6543"):
        assert fact in section, fact


def test_rule_catalogue_is_generated_from_the_rules_and_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("gen_rules_doc", REPO / "scripts" / "gen_rules_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    expected = module.render()
    current = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == expected, "docs/rules.md is out of date: run .venv/bin/python scripts/gen_rules_doc.py"
    for rule in all_rules().values():
        assert f"| {rule.code} | {rule.name} | {rule.severity} |" in current

"""The lint pipeline holds no process-wide state: runs with different
directories, configs and rule registries in one process give each one's
standalone output, in any order; the cycle collector is the command's
business, not the library's; severity keys are expanded like select/ignore."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mobius_sqlcheck.config import config_from_table
from mobius_sqlcheck.lint import lint_paths
from mobius_sqlcheck.rules import load_rules

REPO = Path(__file__).resolve().parent.parent

PROJECTS = {
    "a": ({"001_init.sql": "CREATE TABLE brands (id uuid PRIMARY KEY);\nCREATE INDEX brands_bad ON brands (id);\n",
           "002_more.sql": "ALTER TABLE brands ADD COLUMN note text NOT NULL;\n"},
          '[tool.mobius_sqlcheck]\nindex_name_pattern = "^ix_[a-z_]+$"\nseverity = { MSC3 = "warning" }\n'),
    "b": ({"001_init.sql": "CREATE TABLE brands (id uuid PRIMARY KEY);\nCREATE INDEX ix_brands ON brands (id);\n"
                           "CREATE FUNCTION f(n int) RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT n $$;\n",
           "001_init_rollback.sql": "DROP TABLE brands;\n"},
          '[tool.mobius_sqlcheck]\nselect = ["MSC2", "MSC4", "MSC6"]\nseverity = { MSC6 = "error" }\n'),
}


def _write(root: Path) -> dict[str, Path]:
    projects = {}
    for name, (files, pyproject) in PROJECTS.items():
        project = root / name
        (project / "migrations").mkdir(parents=True)
        (project / "pyproject.toml").write_text(pyproject, encoding="utf-8")
        for filename, text in files.items():
            (project / "migrations" / filename).write_text(text, encoding="utf-8")
        projects[name] = project
    return projects


def _lint_in_process(project: Path) -> list[dict]:
    from mobius_sqlcheck.config import load_config

    config = load_config(str(project / "pyproject.toml"))
    result = lint_paths([str(project / "migrations")], config)
    return [d.as_dict() for d in result.diagnostics]


def _lint_standalone(project: Path) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", "--format", "json",
                           "--config", str(project / "pyproject.toml"), str(project / "migrations")],
                          capture_output=True, text=True, check=False, cwd=project)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["diagnostics"]


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_two_directories_two_configs_one_process(tmp_path: Path, order: tuple[str, str]) -> None:
    projects = _write(tmp_path)
    standalone = {name: _lint_standalone(project) for name, project in projects.items()}
    assert standalone["a"] != standalone["b"]
    for name in order * 2:  # and each one again after the other
        assert _lint_in_process(projects[name]) == standalone[name], name


def test_severity_keys_are_expanded_by_prefix(tmp_path: Path) -> None:
    projects = _write(tmp_path)
    b = {d["rule"]: d["severity"] for d in _lint_in_process(projects["b"])}
    assert b["MSC602"] == "error"  # by the MSC6 prefix; MSC602 is a warning by default
    a = {d["rule"]: d["severity"] for d in _lint_in_process(projects["a"])}
    assert a["MSC301"] == "warning"  # an error by default, warned by MSC3


def test_a_longer_severity_key_wins_over_its_prefix(tmp_path: Path) -> None:
    directory = _write(tmp_path)["b"] / "migrations"
    (directory.parent / "supabase").mkdir()  # MSC601 checks only a Supabase project's history
    (directory.parent / "supabase" / "config.toml").write_text('project_id = "b"\n', encoding="utf-8")
    config = config_from_table({"select": ["MSC601", "MSC602"], "severity": {"MSC602": "warning", "MSC6": "error"}})
    assert {d.rule: d.severity for d in lint_paths([str(directory)], config).diagnostics} == {
        "MSC601": "error", "MSC602": "warning"}


def test_the_rule_registry_is_a_parameter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "extra_rules_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "msc980_says_hello.py").write_text(
        '"""Says hello.\n\n## What it does\nx\n## Why is this bad?\nx\n## Example\nx\n## Use instead\nx\n"""\n'
        'from mobius_sqlcheck.diagnostics import Finding\nCODE = "MSC980"\nNAME = "says-hello"\n'
        'SEVERITY = "warning"\nNODE_TYPES = ("*",)\n\n'
        'def check_statement(statement, ctx):\n    yield Finding("hello", statement.start)\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    directory = _write(tmp_path)["a"] / "migrations"
    config = config_from_table({})
    with_extra = lint_paths([str(directory)], config, load_rules(("extra_rules_pkg",)))
    assert [d.rule for d in with_extra.diagnostics].count("MSC980") == 3
    assert "MSC980" not in {d.rule for d in lint_paths([str(directory)], config).diagnostics}


def test_the_library_leaves_the_cycle_collector_alone(tmp_path: Path) -> None:
    directory = _write(tmp_path)["a"] / "migrations"
    assert gc.isenabled()
    lint_paths([str(directory)], config_from_table({}))
    assert gc.isenabled()
    gc.disable()
    try:
        lint_paths([str(directory)], config_from_table({}))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_config_is_immutable_and_replace_makes_a_copy() -> None:
    config = config_from_table({"select": ["MSC201"]})
    with pytest.raises(AttributeError):
        config.select = ["MSC301"]  # type: ignore[misc]
    changed = config.replace(select=["MSC301"], severity={"MSC301": "warning"})
    assert config.select == ("MSC201",) and changed.select == ("MSC301",)
    with pytest.raises(TypeError):
        changed.severity["MSC301"] = "error"  # type: ignore[index]


def test_rule_options_are_the_config_defaults() -> None:
    from mobius_sqlcheck.config import defaults
    from mobius_sqlcheck.rules import all_rules

    options = {key: value for rule in all_rules().values() for key, value in rule.options.items()}
    assert set(options) >= {"index_name_pattern", "trigger_name_pattern", "constraint_name_pattern"}
    assert {key: defaults()[key] for key in options} == options
    assert config_from_table({}).index_name_pattern == options["index_name_pattern"]


@pytest.mark.parametrize(("rule", "key", "sql", "default_hint", "custom_hint"), [
    ("MSC201", "index_name_pattern", "CREATE INDEX brands_bad ON brands (id);",
     "Rename it, e.g. idx_brands_<columns>.", "Rename it to match ^ix_brands_[a-z]+$."),
    ("MSC202", "trigger_name_pattern",
     "CREATE TRIGGER bad BEFORE UPDATE ON brands FOR EACH ROW EXECUTE FUNCTION f();",
     "Rename it, e.g. brands_<purpose>_trigger.", "Rename it to match ^trg_brands_[a-z]+$."),
])
def test_a_custom_pattern_gets_a_hint_that_matches_it(tmp_path: Path, rule: str, key: str, sql: str,
                                                      default_hint: str, custom_hint: str) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_init.sql").write_text("CREATE TABLE brands (id int);\n" + sql + "\n", encoding="utf-8")
    custom = "^ix_{table}_[a-z]+$" if rule == "MSC201" else "^trg_{table}_[a-z]+$"
    hints = [lint_paths([str(directory)], config_from_table({"select": [rule], **table})).diagnostics[0].hint
             for table in ({}, {key: custom})]
    assert hints == [default_hint, custom_hint]


def test_editor_buffers_are_linted_instead_of_the_disk(tmp_path: Path) -> None:
    """A long-running editor server passes its unsaved buffers: findings and
    positions come from the buffer's text, other files from the disk."""
    from mobius_sqlcheck.lint.sources import Buffer, BufferSources, DiskSources

    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_init.sql").write_text("CREATE TABLE brands (id int);\n", encoding="utf-8")
    (directory / "002_more.sql").write_text("SELECT 1;\n", encoding="utf-8")
    buffer_text = "SELECT 1;\n\nALTER TABLE brands ADD COLUMN note text NOT NULL;\n"
    config = config_from_table({"select": ["MSC301"]})
    target = str(directory / "002_more.sql")
    buffers = BufferSources({target: Buffer(buffer_text, version=7)})
    found = lint_paths([str(directory)], config, sources=buffers).diagnostics
    assert [(Path(d.path).name, d.line, d.column, d.rule) for d in found] == [("002_more.sql", 3, 31, "MSC301")]
    assert lint_paths([str(directory)], config).diagnostics == []  # the disk is unchanged
    assert buffers.version(target) == ("buffer", 7)
    assert buffers.version(str(directory / "001_init.sql")) == DiskSources().version(str(directory / "001_init.sql"))

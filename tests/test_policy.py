"""One transaction policy for the lint and the applier: over every rule case
and the fuzz corpus (and random fuzz cases), a migration file passes MSC502,
MSC503 and MSC504 exactly when `apply` accepts it, for the same statements.

The applier side is the real `load_script` + `policy_problems` that `apply`
runs before sending anything; the lint side is the real pipeline with only
those two rules selected.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings

from mobius_sqlcheck.applier.script import load_script, policy_problems
from mobius_sqlcheck.config import config_from_table
from mobius_sqlcheck.lint import lint_paths
from mobius_sqlcheck.migrations import build_migration_set, list_sql_files
from tests.fuzzing import SHORT, cases, load_corpus

CASES_DIR = Path(__file__).parent / "rule_cases"
POLICY_RULES = ["MSC502", "MSC503", "MSC504"]


def _directories() -> list:
    params = []
    for data_file in sorted(CASES_DIR.glob("*.toml")):
        for number, case in enumerate(tomllib.loads(data_file.read_text(encoding="utf-8")).get("case", []), 1):
            files = {name: text.encode("utf-8") for name, text in case.get("files", {}).items()}
            files.update({name: bytes.fromhex(text) for name, text in case.get("files_hex", {}).items()})
            params.append(pytest.param(files, id=f"{data_file.stem}-{number}"))
    for name, files in load_corpus():
        params.append(pytest.param(files, id=f"fuzz-{name}"))
    return params


def _agree(directory: Path) -> int:
    """Assert lint and apply agree on every migration file of `directory`;
    returns how many files refused."""
    paths = list_sql_files(str(directory))
    migration_set = build_migration_set(str(directory), paths)
    migrations = [m.path for m in migration_set.all_files()]
    result = lint_paths([str(directory)], config_from_table({"select": POLICY_RULES}))
    refused = 0
    for path in migrations:
        linted = sorted(f"{d.path}:{d.line}:{d.column}: {d.rule} {d.message}" for d in result.diagnostics
                        if os.path.samefile(d.path, path) and d.rule in POLICY_RULES)
        try:
            script = load_script(path)
        except Exception:  # noqa: BLE001 - unreadable: apply refuses it (and lint says MSC002)
            continue
        if not script.statements:  # sent whole (does not parse): the server judges it
            continue
        applied = sorted(problem.replace(script.path, path, 1) for problem in policy_problems(script))
        linted = [line.replace(line.split(":", 1)[0], path, 1) for line in linted]
        assert applied == linted, path
        refused += bool(applied)
    return refused


def _write(directory: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@pytest.mark.parametrize("files", _directories())
def test_lint_passes_exactly_when_apply_accepts(files: dict[str, bytes], tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    _write(directory, files)
    _agree(directory)


def test_the_cases_do_refuse_something(tmp_path: Path) -> None:
    """The equivalence is not vacuous: the MSC502/MSC503/MSC504 cases make apply refuse."""
    refused = 0
    for param in _directories():
        if param.id.startswith(("msc503", "msc504")):
            directory = tmp_path / param.id / "migrations"
            directory.mkdir(parents=True)
            _write(directory, param.values[0])
            refused += _agree(directory)
    assert refused >= 6


@settings(SHORT)
@given(cases())
def test_random_directories_agree(tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes]) -> None:
    directory = tmp_path_factory.mktemp("fuzz") / "migrations"
    directory.mkdir()
    _write(directory, {name: data for name, data in files.items() if "/" not in name})
    _agree(directory)


def test_in_a_no_transaction_file_the_hint_does_not_recommend_the_marker(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_x.sql").write_text("-- mobius-sqlcheck: no-transaction\nCOMMIT;\n"
                                         "DO $$ BEGIN COMMIT; END $$;\n", encoding="utf-8")
    (directory / "002_y.sql").write_text("COMMIT;\n", encoding="utf-8")
    result = lint_paths([str(directory)], config_from_table({"select": ["MSC503"]}))
    hints = {(Path(d.path).name, d.line): d.hint for d in result.diagnostics}
    assert set(hints) == {("001_x.sql", 2), ("001_x.sql", 3), ("002_y.sql", 1)}
    assert "marked" not in hints[("001_x.sql", 2)] and "marked" not in hints[("001_x.sql", 3)]
    assert "marked -- mobius-sqlcheck: no-transaction" in hints[("002_y.sql", 1)]

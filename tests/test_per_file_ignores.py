"""`per_file_ignores`: rules off for the files a glob matches, the way to
exempt an applied migration without changing its bytes (a suppression comment
would change its checksum in the lock file and in the database)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MIGRATIONS = {
    "001_init.sql": "CREATE TABLE brands (id uuid PRIMARY KEY);\n",
    "002_index.sql": "CREATE INDEX idx_brands_id ON brands (id);\n",
    "003_index.sql": "CREATE INDEX idx_brands_id2 ON brands (id);\n",
}


def _lint(project: Path, table: str) -> tuple[int, dict]:
    (project / "pyproject.toml").write_text(f"[tool.mobius_sqlcheck]\nselect = ['MSC306']\n{table}\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", "--format", "json"], cwd=project,
                            capture_output=True, text=True, check=False)
    return result.returncode, (json.loads(result.stdout) if result.stdout.strip().startswith("{") else {"err": result.stderr})


def _project(tmp_path: Path) -> Path:
    (tmp_path / "migrations").mkdir()
    for name, text in MIGRATIONS.items():
        (tmp_path / "migrations" / name).write_text(text, encoding="utf-8")
    return tmp_path


def _flagged(output: dict) -> list[str]:
    return sorted(Path(d["path"]).name for d in output["diagnostics"] if d["rule"] == "MSC306")


def test_without_the_key_both_indexes_are_flagged(tmp_path: Path) -> None:
    _, output = _lint(_project(tmp_path), "")
    assert _flagged(output) == ["002_index.sql", "003_index.sql"]


def test_a_glob_by_path_or_by_name_exempts_only_its_files(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _, by_path = _lint(project, 'per_file_ignores = { "migrations/002_*.sql" = ["MSC306"] }')
    assert _flagged(by_path) == ["003_index.sql"]
    _, by_name = _lint(project, 'per_file_ignores = { "003_index.sql" = ["MSC3"] }')
    assert _flagged(by_name) == ["002_index.sql"]


def test_an_unknown_code_is_a_config_error(tmp_path: Path) -> None:
    code, output = _lint(_project(tmp_path), 'per_file_ignores = { "*.sql" = ["MSC999"] }')
    assert code == 2
    assert "per_file_ignores" in output["err"] and "MSC999" in output["err"]


def test_this_repository_exempts_applied_005_without_touching_it() -> None:
    # The checksums of 005 as applied in production before the lock rules existed.
    lock = (REPO / "migrations" / "sqlcheck.sum").read_text(encoding="utf-8")
    assert "005_add_compressed_twin.sql h1:t3KEGy+ObUYEj9DCOO0qTpaF/2+GqCn90d2Y29M7dAo=" in lock
    assert "mobius-sqlcheck: ignore" not in (REPO / "migrations" / "005_add_compressed_twin.sql").read_text(encoding="utf-8")

"""The self-check: `trace` over every rule-case directory and the bundled
migrations on a real PostgreSQL; the static lock model's prediction must
equal what the server did, statement by statement.

Runs on PostgreSQL 15 and 17 (the versions Supabase runs), on the servers of
tests/conftest.py: 17's binaries come from scripts/test.sh, as for the
applier tests, and are skipped loudly when they cannot be had. Each server
checks the model row of its own major version.
"""

from __future__ import annotations

import json
import tomllib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from mobius_sqlcheck import tracing
from mobius_sqlcheck.applier import ephemeral
from mobius_sqlcheck.cli import main
from mobius_sqlcheck.migrations import load_migration_set
from tests.conftest import TEMPLATE

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "rule_cases"


pytestmark = pytest.mark.pg17  # the self-check runs on PostgreSQL 17 as well (tests/conftest.py)


@pytest.fixture
def server(servers: ephemeral.Servers) -> tuple[ephemeral.Servers, int]:
    """The suite's PostgreSQL servers (tests/conftest.py, one pair per version for the run), with its major."""
    with psycopg.connect(servers.direct_url(), autocommit=True) as conn:
        major = int(str(conn.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
    return servers, major


@contextmanager
def _fresh_database(servers: ephemeral.Servers, name: str) -> Iterator[str]:
    """A new database holding the Supabase platform objects (a copy of the template
    tests/conftest.py bootstrapped), dropped afterwards: hundreds would fill the disk."""
    with psycopg.connect(servers.direct_url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    try:
        yield servers.direct_url(name)
    finally:
        with psycopg.connect(servers.direct_url("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _case_directories(tmp: Path) -> Iterator[tuple[str, Path]]:
    for data_file in sorted(CASES.glob("*.toml")):
        for number, case in enumerate(tomllib.loads(data_file.read_text(encoding="utf-8")).get("case", []), 1):
            directory = tmp / f"{data_file.stem}_{number}" / case.get("directory", "migrations")
            directory.mkdir(parents=True)
            for name, content in case.get("files", {}).items():
                target = directory / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8")
            yield f"{data_file.stem} case {number} ({case.get('name', '')})", directory


def test_the_model_equals_the_server_on_every_rule_case_and_the_bundled_migrations(
        server: tuple[ephemeral.Servers, int], tmp_path: Path) -> None:
    servers, major = server
    directories = [("the bundled migrations", ROOT / "migrations"), *_case_directories(tmp_path)]
    disagreements, traced = [], 0
    for number, (label, directory) in enumerate(directories):
        with _fresh_database(servers, f"trace_{number}") as url:
            files = tracing.trace_migrations(url, load_migration_set(str(directory)), major)
        for file in files:
            for statement in file.statements:
                traced += 1
                disagreements += [f"{label}: {file.path}:{statement.line}: {statement.text!r}: {text}"
                                  for text in statement.disagreements]
    assert traced > 300  # the rule cases really ran, not only failed at their first statement
    assert not disagreements, "\n".join(disagreements)


def test_trace_the_bundled_migrations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", str(ROOT / "migrations"), "--format", "json", "--seed-rows", "50"]) == 0
    document = json.loads(capsys.readouterr().out)
    files = {Path(file["path"]).name: file for file in document["files"]}
    assert all(file["error"] is None for file in files.values())
    add_column = files["004_learning_privacy.sql"]["statements"][0]
    assert add_column["locks"] == {"public.brands": "ACCESS EXCLUSIVE"}
    assert "ACCESS EXCLUSIVE on an existing table" in add_column["flags"]
    index = files["005_add_compressed_twin.sql"]["statements"][-1]
    assert index["locks"] == {"public.brands": "SHARE"} and index["predicted_locks"] == {"public.brands": "SHARE"}


def test_trace_follows_the_layout_a_dbmate_down_section_is_not_run(capsys: pytest.CaptureFixture[str]) -> None:
    fixture = ROOT / "tests" / "layouts" / "fixtures" / "dbmate" / "db" / "migrations"
    assert main(["trace", str(fixture), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    texts = [statement["statement"].lower() for file in document["files"] for statement in file["statements"]]
    assert document["files"] and all(file["error"] is None for file in document["files"])
    assert any(text.startswith("create table profiles") for text in texts)
    assert not any(text.startswith("drop ") for text in texts), texts  # the -- migrate:down sections


def test_a_rewrite_is_seen_by_its_relfilenode(server: tuple[ephemeral.Servers, int], tmp_path: Path) -> None:
    servers, major = server
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_init.sql").write_text("CREATE TABLE assets (asset_id int PRIMARY KEY, n int);")
    (directory / "002_rewrite.sql").write_text("ALTER TABLE assets ALTER COLUMN n TYPE bigint;\n"
                                               "ALTER TABLE assets ADD COLUMN note text;")
    with _fresh_database(servers, "trace_rewrite") as url:
        results = tracing.trace_migrations(url, load_migration_set(str(directory)), major, seed_rows=10)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM assets").fetchone() == (10,)  # seeded before 002
    change, add = results[1].statements
    assert change.rewritten == ["public.assets"] and change.predicted_rewrites == ["public.assets"]
    assert add.rewritten == [] and add.locks == {}  # ACCESS EXCLUSIVE already held from the first statement
    assert change.disagreements == [] and add.disagreements == []

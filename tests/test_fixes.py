"""The mechanical fixes: `lint --fix` (the real CLI) on the failing rule
cases of the rules it fixes, the rewrites themselves, and what --fix leaves alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pglast import parser as pg_parser

from mobius_sqlcheck.config import config_from_table
from mobius_sqlcheck.fixes import fixes_for
from mobius_sqlcheck.fixes.apply import FIXABLE
from mobius_sqlcheck.fixes.base import FixContext, apply_edits
from mobius_sqlcheck.lint import lint_paths
from mobius_sqlcheck.migrations import load_migration_set
from mobius_sqlcheck.parse import parse_source
from mobius_sqlcheck.source import SourceFile, decode_source

ROOT = Path(__file__).resolve().parents[1]
CASES_DIR = ROOT / "tests" / "rule_cases"


def _failing_cases() -> list:
    params = []
    for code in sorted(FIXABLE):
        data_file = CASES_DIR / f"{code.lower()}.toml"
        if not data_file.exists():
            continue  # the rule is not on this branch yet
        for number, case in enumerate(tomllib.loads(data_file.read_text())["case"], 1):
            if case.get("expect"):
                params.append(pytest.param(code, case, id=f"{code}-{number}-{case['name'][:40]}"))
    return params


def test_the_msc301_cases_are_here():
    assert any(param.values[0] == "MSC301" for param in _failing_cases())


def _run_fix(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", "--fix", "--no-cache", "--color", "never",
                           "migrations"], cwd=project, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def _write_project(tmp_path: Path, code: str, case: dict) -> Path:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for name, text in case["files"].items():
        (migrations / name).write_text(text)
    table = {"select": case.get("select", [code]), **case.get("config", {})}
    (tmp_path / "pyproject.toml").write_text("[tool.mobius_sqlcheck]\n" + "".join(
        f"{key} = {json.dumps(value)}\n" for key, value in table.items()))
    return migrations


@pytest.mark.parametrize(("code", "case"), _failing_cases())
def test_lint_fix_on_the_rule_cases(code: str, case: dict, tmp_path: Path):
    migrations = _write_project(tmp_path, code, case)
    before = _snapshot(migrations)
    first = _run_fix(tmp_path)
    after = _snapshot(migrations)
    fixed = [line for line in first.stderr.splitlines() if f": fixed {code}:" in line]
    not_fixed = [line for line in first.stderr.splitlines() if f": not fixed {code}:" in line]
    assert fixed or not_fixed, first.stderr  # every finding is either fixed or said not to be
    for name, data in after.items():
        if before.get(name) != data:
            pg_parser.parse_sql(data.decode())  # libpg_query accepts every file --fix wrote
    config = config_from_table({"select": case.get("select", [code]), **case.get("config", {})})
    left = [d for d in lint_paths([str(migrations)], config).diagnostics if d.rule == code]
    # What is left is exactly what --fix said it could not fix: DDL inside a DO block or a function body.
    assert [f"{Path(d.path).name}:{d.line}:{d.column}" for d in left] == \
           [line.split("/")[-1].split(": not fixed")[0] for line in not_fixed]
    for diagnostic in left:
        source = decode_source(diagnostic.path, Path(diagnostic.path).read_bytes())
        assert isinstance(source, SourceFile)
        at = source.byte_offset_of_char(sum(len(line) + 1 for line in source.text.split("\n")[:diagnostic.line - 1])
                                        + diagnostic.column - 1)
        [holder] = [s for s in parse_source(source).statements if s.start <= at <= s.end]
        assert holder.node_type in ("DoStmt", "CreateFunctionStmt") and holder.start != at
    second = _run_fix(tmp_path)
    assert _snapshot(migrations) == after  # idempotent
    assert ": fixed " not in second.stderr


def _context(code: str, files: dict[str, str], name: str, needle: str, tmp_path: Path) -> FixContext:
    migrations = tmp_path / "migrations"
    migrations.mkdir(exist_ok=True)
    for file_name, text in files.items():
        (migrations / file_name).write_text(text)
    path = str(migrations / name)
    source = decode_source(path, files[name].encode())
    assert isinstance(source, SourceFile)
    parsed = parse_source(source)
    offset = source.byte_offset_of_char(files[name].index(needle))
    statement = next(s for s in parsed.statements if s.start <= offset <= s.end)
    return FixContext(code, source, parsed, offset, statement, load_migration_set(str(migrations)))


def _parsed_after(context: FixContext, fix) -> tuple[dict, dict[str, str]]:
    text = apply_edits(context.text, [e for e in fix.edits if e.path == context.source.path])
    return {"main": json.loads(pg_parser.parse_sql_json(text))}, {Path(f.path).name: f.text for f in fix.new_files} | {
        "__main__": text}


def test_create_index_in_a_file_of_index_builds_becomes_concurrent_in_place(tmp_path: Path):
    files = {"001_init.sql": "CREATE TABLE brands (id int, name text);\n",
             "002_index.sql": "CREATE INDEX idx_brands_name ON brands (name);\nREINDEX TABLE brands;\n"}
    context = _context("MSC306", files, "002_index.sql", "CREATE INDEX", tmp_path)
    in_place, moved = fixes_for(context)[:2]
    assert in_place.mechanical and not in_place.new_files
    _, texts = _parsed_after(context, in_place)
    assert texts["__main__"].startswith("-- mobius-sqlcheck: no-transaction\n")
    [first, *_] = json.loads(pg_parser.parse_sql_json(texts["__main__"]))["stmts"]
    assert first["stmt"]["IndexStmt"]["concurrent"] and first["stmt"]["IndexStmt"]["if_not_exists"]
    # The second action moves it to a new migration after every other one.
    assert [Path(f.path).name for f in moved.new_files] == ["003_concurrent_idx_brands_name.sql",
                                                            "003_concurrent_idx_brands_name_rollback.sql"]
    assert moved.new_files[0].text.startswith("-- mobius-sqlcheck: no-transaction\nCREATE INDEX CONCURRENTLY")
    assert moved.new_files[1].text == ("-- mobius-sqlcheck: no-transaction\n"
                                       "DROP INDEX CONCURRENTLY IF EXISTS idx_brands_name;\n")
    reindex = _context("MSC306", files, "002_index.sql", "REINDEX", tmp_path)
    fix = fixes_for(reindex)[0]
    text = apply_edits(reindex.text, list(fix.edits))
    assert "REINDEX TABLE CONCURRENTLY brands" in text
    pg_parser.parse_sql(text)


def test_create_index_beside_other_statements_moves_to_a_new_migration(tmp_path: Path):
    files = {"001_init.sql": "CREATE TABLE brands (id int, name text);\n",
             "002_mixed.sql": "ALTER TABLE brands ADD COLUMN tier text;\nCREATE INDEX idx_brands_tier ON brands (tier);\n"}
    context = _context("MSC306", files, "002_mixed.sql", "CREATE INDEX", tmp_path)
    [moved, suppress] = fixes_for(context)
    assert moved.mechanical and suppress.title.startswith("Suppress")
    assert apply_edits(context.text, list(moved.edits)) == "ALTER TABLE brands ADD COLUMN tier text;\n"
    new_file, _rollback = moved.new_files
    assert Path(new_file.path).name == "003_concurrent_idx_brands_tier.sql"
    assert json.loads(pg_parser.parse_sql_json(new_file.text))["stmts"][0]["stmt"]["IndexStmt"]["concurrent"]


@pytest.mark.parametrize("statement", [
    "ALTER TABLE assets ADD CONSTRAINT assets_brand_fkey FOREIGN KEY (brand_id) REFERENCES brands (id)",
    "ALTER TABLE assets ADD FOREIGN KEY (brand_id) REFERENCES brands (id)",
    "ALTER TABLE public.assets ADD CHECK (score >= 0)",
])
def test_add_constraint_becomes_not_valid_and_validated_later(statement: str, tmp_path: Path):
    files = {"001_init.sql": "CREATE TABLE brands (id int PRIMARY KEY);\n"
                             "CREATE TABLE assets (id int, brand_id int, score int);\n",
             "002_fk.sql": statement + ";\n"}
    needle = "CONSTRAINT" if "CONSTRAINT" in statement else ("FOREIGN" if "FOREIGN" in statement else "CHECK")
    context = _context("MSC308", files, "002_fk.sql", needle, tmp_path)
    fix = fixes_for(context)[0]
    text = apply_edits(context.text, list(fix.edits))
    [command] = json.loads(pg_parser.parse_sql_json(text))["stmts"][0]["stmt"]["AlterTableStmt"]["cmds"]
    constraint = command["AlterTableCmd"]["def"]["Constraint"]
    assert constraint["skip_validation"] and constraint["conname"]
    new_file, rollback = fix.new_files
    assert Path(new_file.path).name.startswith("003_validate_")
    assert Path(rollback.path).name == Path(new_file.path).name.replace(".sql", "_rollback.sql")
    validate = json.loads(pg_parser.parse_sql_json(new_file.text))["stmts"][0]["stmt"]["AlterTableStmt"]
    assert validate["cmds"][0]["AlterTableCmd"]["subtype"] == "AT_ValidateConstraint"
    assert validate["cmds"][0]["AlterTableCmd"]["name"] == constraint["conname"]


def test_a_locked_migration_is_not_fixed(tmp_path: Path):
    migrations = _write_project(tmp_path, "MSC301", {"files": {
        "001_init.sql": "CREATE TABLE brands (id int);\n",
        "002_add.sql": "ALTER TABLE brands ADD COLUMN region text NOT NULL;\n"}})
    locked = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lock"], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert locked.returncode == 0, locked.stderr
    before = _snapshot(migrations)
    done = _run_fix(tmp_path)
    assert "002_add.sql: not fixed: the lock file records it" in done.stderr
    assert _snapshot(migrations) == before


def test_fix_with_an_unreachable_database_changes_nothing(tmp_path: Path):
    migrations = _write_project(tmp_path, "MSC301", {"files": {
        "001_init.sql": "CREATE TABLE brands (id int);\n",
        "002_add.sql": "ALTER TABLE brands ADD COLUMN region text NOT NULL;\n"}})
    before = _snapshot(migrations)
    url = "postgresql://app:Pw-never-shown-42@127.0.0.1:1/shop"  # nothing listens on port 1
    done = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", "--fix", "--no-cache", "--database-url",
                           url, "migrations"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode not in (0, 3) and "Traceback" not in done.stderr, done.stderr  # 3: a crash
    assert "127.0.0.1" in done.stderr and "Pw-never-shown-42" not in done.stdout + done.stderr
    assert _snapshot(migrations) == before

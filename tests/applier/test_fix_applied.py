"""`lint --fix --database-url`: never to an applied migration.

Applied means recorded in mobius_sqlcheck's history (here by a real `apply`)
or in the Supabase CLI's (a row as `supabase db push` writes it); a
migration neither records is fixed. The URL's password never shows."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from mobius_sqlcheck.applier import supabase_history
from tests.applier.helpers import PASSWORD, Db, apply_args, write_migrations


def _adds(column: str) -> dict[str, str]:
    return {"up": f"ALTER TABLE brands ADD COLUMN {column} text NOT NULL;\n",
            "down": f"ALTER TABLE brands DROP COLUMN IF EXISTS {column};\n"}


def _files(version: str, name: str, up: str, down: str) -> dict[str, str]:
    return {f"{version}_{name}.sql": up, f"{version}_{name}_rollback.sql": down}


def test_fix_leaves_applied_migrations_alone(db: Db, run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    migrations = tmp_path / "migrations"
    write_migrations(migrations, {**_files("001", "init", "CREATE TABLE brands (id int PRIMARY KEY);\n",
                                           "DROP TABLE IF EXISTS brands;\n"),
                                  **_files("002", "region", **_adds("region"))})
    applied = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert applied.code == 0, applied.err
    write_migrations(migrations, {**_files("003", "tier", **_adds("tier")), **_files("004", "size", **_adds("size"))})
    with psycopg.connect(db.direct, autocommit=True) as conn:  # 003 went in by `supabase db push`
        for statement in supabase_history.CREATE_STATEMENTS:
            conn.execute(statement)
        conn.execute(f"INSERT INTO {supabase_history.TABLE} (version, name) VALUES ('003', 'tier')")
    (tmp_path / "pyproject.toml").write_text('[tool.mobius_sqlcheck]\nselect = ["MSC301"]\n')
    before = {p.name: p.read_bytes() for p in migrations.iterdir()}
    monkeypatch.chdir(tmp_path)
    fixed = run_cli("lint", "--fix", "--no-cache", "--database-url", db.url, "migrations")
    lines = fixed.err.splitlines()
    assert any(line.endswith("002_region.sql: not fixed: applied: the migration history of "
                             f"{_display(db)} records it (1 finding(s) left)") for line in lines), fixed.err
    assert any("003_tier.sql: not fixed: applied: the Supabase CLI's history of" in line for line in lines), fixed.err
    assert any("004_size.sql:1:" in line and ": fixed MSC301:" in line for line in lines), fixed.err
    after = {p.name: p.read_bytes() for p in migrations.iterdir()}
    assert {name for name in after if after[name] != before.get(name)} == {"004_size.sql"}
    assert PASSWORD not in fixed.out + fixed.err


def _display(db: Db) -> str:
    from mobius_sqlcheck.applier.database import make_target

    return make_target(db.url).display


def test_a_lone_concurrent_index_build_runs_as_golang_migrate_sends_it(db: Db):
    """golang-migrate sends a file as one simple query: what its layout (and
    the fix for it) relies on. One statement runs outside any transaction
    block; beside another statement it is in the query's implicit one."""
    with psycopg.connect(db.direct, autocommit=True) as conn:
        conn.execute("CREATE TABLE brands (id int, name text)")
        conn.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_brands_name ON brands (name)")
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            conn.execute("SELECT 1; CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_brands_id ON brands (id)")

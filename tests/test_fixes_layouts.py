"""`lint --fix` in each migration layout: the no-transaction way is the
layout's own, new migrations are named as the layout names them (with their
rollbacks where it has rollbacks), and the result lints clean of what the
fixes must not leave (MSC306, MSC308, MSC504, MSC401, MSC402, MSC110)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pglast import parser as pg_parser

from mobius_sqlcheck.config import config_from_table
from mobius_sqlcheck.fixes.apply import fix_findings
from mobius_sqlcheck.lint import lint_paths

INIT = "CREATE TABLE brands (id int PRIMARY KEY, name text);\n"
INIT_DOWN = "DROP TABLE IF EXISTS brands;\n"
MIXED = ("ALTER TABLE brands ADD COLUMN tier text;\n"
         "CREATE INDEX idx_brands_tier ON brands (tier);\n"
         "ALTER TABLE brands ADD CONSTRAINT brands_tier_check CHECK (tier <> '');\n")
MIXED_DOWN = ("DROP INDEX idx_brands_tier;\n"
              "ALTER TABLE brands DROP CONSTRAINT IF EXISTS brands_tier_check;\n"
              "ALTER TABLE brands DROP COLUMN IF EXISTS tier;\n")
INDEX = "CREATE INDEX idx_brands_name ON brands (name);\n"
INDEX_DOWN = "DROP INDEX IF EXISTS idx_brands_name;\n"
CHECKED = ["MSC306", "MSC308", "MSC504", "MSC401", "MSC402", "MSC110", "MSC003"]


def _dbmate(up: str, down: str) -> str:
    return f"-- migrate:up\n{up}\n-- migrate:down\n{down}"


# layout -> (migrations directory, {relative path: text}) of 001 init, 002 mixed, 003 index only
LAYOUTS = {
    "mobius": ("migrations", {
        "001_init.sql": INIT, "001_init_rollback.sql": INIT_DOWN,
        "002_mixed.sql": MIXED, "002_mixed_rollback.sql": MIXED_DOWN,
        "003_index.sql": INDEX, "003_index_rollback.sql": INDEX_DOWN}),
    "supabase": ("supabase/migrations", {
        "20240101000001_init.sql": INIT, "20240101000002_mixed.sql": MIXED, "20240101000003_index.sql": INDEX}),
    "golang-migrate": ("migrations", {
        "000001_init.up.sql": INIT, "000001_init.down.sql": INIT_DOWN,
        "000002_mixed.up.sql": MIXED, "000002_mixed.down.sql": MIXED_DOWN,
        "000003_index.up.sql": INDEX, "000003_index.down.sql": INDEX_DOWN}),
    "dbmate": ("db/migrations", {
        "20240101000001_init.sql": _dbmate(INIT, INIT_DOWN),
        "20240101000002_mixed.sql": _dbmate(MIXED, MIXED_DOWN),
        "20240101000003_index.sql": _dbmate(INDEX, INDEX_DOWN)}),
    "diesel": ("migrations", {
        "2024-01-01-000001_init/up.sql": INIT, "2024-01-01-000001_init/down.sql": INIT_DOWN,
        "2024-01-01-000002_mixed/up.sql": MIXED, "2024-01-01-000002_mixed/down.sql": MIXED_DOWN,
        # metadata.toml covers down.sql too: it must be able to run outside a transaction
        "2024-01-01-000003_index/up.sql": INDEX,
        "2024-01-01-000003_index/down.sql": "DROP INDEX CONCURRENTLY IF EXISTS idx_brands_name;\n"}),
    "flyway": ("db/migration", {
        "V1__init.sql": INIT, "U1__init.sql": INIT_DOWN,
        "V2__mixed.sql": MIXED, "U2__mixed.sql": MIXED_DOWN,
        "V3__index.sql": INDEX, "U3__index.sql": INDEX_DOWN}),
    "prisma": ("prisma/migrations", {
        "migration_lock.toml": 'provider = "postgresql"\n',
        "20240101000001_init/migration.sql": INIT, "20240101000002_mixed/migration.sql": MIXED,
        "20240101000003_index/migration.sql": INDEX}),
}

# What marks the index-only migration (003) no-transaction, in place: (file, text it must hold).
IN_PLACE_MARK = {
    "mobius": ("003_index.sql", "-- mobius-sqlcheck: no-transaction\n"),
    "supabase": ("20240101000003_index.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS"),  # the CLI needs no marker
    "golang-migrate": ("000003_index.up.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS"),  # one statement
    "dbmate": ("20240101000003_index.sql", "-- migrate:up transaction:false\n"),
    "diesel": ("2024-01-01-000003_index/metadata.toml", "run_in_transaction = false"),
    "flyway": ("V3__index.sql.conf", "executeInTransaction=false"),
}


def _lint(directory: Path, layout: str):
    config = config_from_table({"select": CHECKED, "layout": layout})
    return config, lint_paths([str(directory)], config).diagnostics


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_fix_in_each_layout(layout: str, tmp_path: Path) -> None:
    relative, files = LAYOUTS[layout]
    directory = tmp_path / relative
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    if layout == "supabase":
        (tmp_path / "supabase" / "config.toml").write_text('project_id = "shop"\n')
    config, before = _lint(directory, layout)
    assert {"MSC306", "MSC308"} <= {d.rule for d in before}
    report = fix_findings(before, config)
    _, after = _lint(directory, layout)
    left = sorted(f"{d.rule} {Path(d.path).relative_to(directory)}:{d.line}" for d in after)
    if layout == "prisma":
        # Prisma has no way to run a migration outside a transaction: said so, and left.
        assert all(d.rule == "MSC306" for d in after), left
        assert sum("Prisma Migrate has no way to run a migration outside a transaction" in line
                   for line in report) == 2, report
    else:
        assert left == [], "\n".join(report + left)
        name, marker = IN_PLACE_MARK[layout]
        assert marker in (directory / name).read_text(), report
    for path in directory.rglob("*.sql"):
        pg_parser.parse_sql(path.read_text())  # libpg_query accepts every file
    # The moved index and the validation are new migrations, after 003, in the layout's naming.
    created = sorted(Path(line.split(": created")[0]).relative_to(directory).as_posix()
                     for line in report if line.endswith(": created"))
    assert created, report
    assert all(name not in files for name in created)
    if layout not in ("prisma",):
        assert any("concurrent_idx_brands_tier" in name for name in created), created
    assert any("validate_brands_tier_check" in name for name in created), created
    # A second --fix finds nothing to fix.
    config, again = _lint(directory, layout)
    assert not any(": fixed " in line for line in fix_findings(again, config))

"""`verify` answers the four catalog queries (tables, indexes, triggers,
storage buckets) beside what the migrations say; lines that disagree start
with `!`."""

from __future__ import annotations

import pytest

from mobius_sqlcheck.applier.catalog_report import side_by_side
from mobius_sqlcheck.applier.verify import IndexShape, SchemaShape
from tests.applier.helpers import MIGRATIONS, Db, apply_args

pytestmark = pytest.mark.pg17  # runs on PostgreSQL 17 as well (tests/conftest.py)


def _line(out: str, start: str, name: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(start) and f" {name} " in f"{line} ")


def test_verify_prints_the_catalog_beside_the_migrations(db: Db, run_cli) -> None:
    assert run_cli(*apply_args(db, MIGRATIONS, "--skip-lint")).code == 0
    db.query("DROP INDEX public.idx_jobs_status")
    db.query("UPDATE storage.buckets SET public = true WHERE id = 'assets'")
    db.query("ALTER TABLE public.templates ADD COLUMN extra int")
    result = run_cli("verify", "--database-url", db.url, "--migrations", str(MIGRATIONS))
    assert result.code == 1
    out = result.out
    for heading in ("-- tables (information_schema.tables, schema public)",
                    "-- indexes (pg_indexes, schema public;", "-- triggers (information_schema.triggers, schema public)",
                    "-- storage buckets (storage.buckets)"):
        assert heading in out
    assert "README" not in out
    live_columns = db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
                             "AND table_name = 'brands'")
    assert _line(out, " ", "brands").split()[1:3] == [str(live_columns), "columns"]
    assert "only here: extra" in _line(out, "!", "templates")
    assert _line(out, "!", "idx_jobs_status").split()[2:] == ["-", "on", "jobs"]
    assert _line(out, " ", "idx_jobs_idempotency").count("on jobs (unique, partial)") == 2
    assert _line(out, " ", "feedback_learning_trigger").split()[-2:] == ["present", "present"]
    assets = _line(out, "!", "assets")
    assert "public=true file_size_limit=10485760" in assets and "public=false file_size_limit=10485760" in assets
    assert "allowed_mime_types={image/jpeg,image/png,image/webp}" in assets
    bucket_lines = out.split("-- storage buckets (storage.buckets)")[1].splitlines()
    assert any(line.startswith("  brands  public=false file_size_limit=52428800") for line in bucket_lines)


def test_side_by_side_marks_only_disagreements() -> None:
    expected = SchemaShape(tables={"t": {"id"}}, indexes={"idx_t": IndexShape("t", True, False)},
                           triggers={("t", "t_trigger")}, buckets={})
    live = SchemaShape(tables={"t": {"id"}, "u": {"id"}}, indexes={"idx_t": IndexShape("t", True, False)},
                       triggers=set(), buckets=None)
    lines = side_by_side(expected, live)
    assert "  t  1 columns  1 columns" in lines
    assert "! u  1 columns  -" in lines
    assert any(line.startswith("  idx_t") for line in lines)
    assert any(line.split() == ["!", "t_trigger", "on", "t", "-", "present"] for line in lines)
    assert lines[-1] == "   (none in the database, none in the migrations)"

"""`baseline` for a database built by hand with psql -f, and `verify` as
schema-drift detection (missing, unexpected and mismatched objects)."""

from __future__ import annotations

import json

import psycopg

import pytest

from tests.applier.helpers import MIGRATIONS, Db, apply_args

pytestmark = pytest.mark.pg17  # runs on PostgreSQL 17 as well (tests/conftest.py)

FORWARDS = sorted(p for p in MIGRATIONS.glob("*.sql") if not p.stem.endswith("_rollback"))


def _apply_by_hand(db: Db, upto: str) -> None:
    """The original README's way: run each file in order."""
    with psycopg.connect(db.direct, autocommit=True) as conn:
        for path in sorted(FORWARDS, key=lambda p: (int(p.name.split("_")[0]), p.name)):
            if int(path.name.split("_")[0]) <= int(upto):
                conn.execute(path.read_text(encoding="utf-8"))


def _args(db: Db) -> list[str]:
    return ["--database-url", db.url, "--migrations", str(MIGRATIONS)]


def test_baseline_records_hand_applied_migrations(db: Db, run_cli) -> None:
    _apply_by_hand(db, "004")
    result = run_cli("baseline", "--to", "004", *_args(db))
    assert result.code == 0, result.text
    assert result.out.count("baselined") == 5
    assert db.scalar("SELECT count(*) FROM mobius_sqlcheck.schema_history WHERE method = 'baseline'") == 5
    # Then apply continues with what is left.
    applied = run_cli(*apply_args(db, MIGRATIONS, "--skip-lint"))
    assert applied.code == 0 and applied.out.count("applied  ") == 1
    assert run_cli("status", *_args(db)).code == 0
    assert run_cli("verify", *_args(db)).code == 0


def test_baseline_refuses_when_objects_are_missing(db: Db, run_cli) -> None:
    _apply_by_hand(db, "002")  # 003 and 004 were never run
    result = run_cli("baseline", "--to", "004", *_args(db))
    assert result.code == 1
    assert "refusing to baseline" in result.err
    assert "missing     table feedback" in result.err
    assert "missing     storage bucket brands" in result.err
    assert db.exists("mobius_sqlcheck.schema_history") is False or db.history() == []


def test_verify_reports_drift(db: Db, run_cli) -> None:
    assert run_cli(*apply_args(db, MIGRATIONS, "--skip-lint")).code == 0
    db.query("DROP INDEX idx_jobs_status")
    db.query("CREATE INDEX idx_assets_status ON assets (status)")
    db.query("ALTER TABLE brands ADD COLUMN mascot text")
    db.query("DROP TRIGGER feedback_learning_trigger ON feedback")
    db.query("UPDATE storage.buckets SET public = true, file_size_limit = 1 WHERE id = 'brands'")
    db.query("UPDATE storage.buckets SET allowed_mime_types = ARRAY['image/gif'] WHERE id = 'assets'")
    result = run_cli("verify", "--format", "json", *_args(db))
    assert result.code == 1
    found = {(d["kind"], d["object"]) for d in json.loads(result.out)["differences"]}
    assert found == {
        ("missing", "index idx_jobs_status"),
        ("unexpected", "index idx_assets_status"),
        ("unexpected", "column brands.mascot"),
        ("missing", "trigger feedback_learning_trigger on feedback"),
        ("mismatched", "storage bucket brands"),  # public and file_size_limit
        ("mismatched", "storage bucket assets"),
    }
    text = run_cli("verify", *_args(db))
    assert "mismatched  storage bucket brands: public is True, the migrations set False" in text.out


def test_verify_compares_only_applied_migrations(db: Db, run_cli) -> None:
    assert run_cli(*apply_args(db, MIGRATIONS, "--skip-lint", "--target", "003")).code == 0
    result = run_cli("verify", *_args(db))
    assert result.code == 0, result.text
    assert "3 pending migration(s)" in result.out


def test_verify_without_storage(db: Db, run_cli) -> None:
    assert run_cli(*apply_args(db, MIGRATIONS, "--skip-lint")).code == 0
    db.query("DROP SCHEMA storage CASCADE")
    result = run_cli("verify", *_args(db))
    assert result.code == 1
    assert "missing     table storage.buckets: Storage is not enabled" in result.out

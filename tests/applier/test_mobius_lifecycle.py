"""The real Mobius migrations through PgBouncer (transaction mode): apply,
status, verify, roll back everything, re-apply."""

from __future__ import annotations

import json

import pytest

from tests.applier.helpers import MIGRATIONS, PASSWORD, Db, apply_args

pytestmark = pytest.mark.pg17  # runs on PostgreSQL 17 as well (tests/conftest.py)

FILES = [
    ("001", "initial_schema"), ("002", "add_templates"), ("003", "add_feedback"),
    ("004", "learning_privacy"), ("004", "storage_buckets"), ("005", "add_compressed_twin"),
]


def _url_args(db: Db) -> list[str]:
    return ["--database-url", db.url, "--migrations", str(MIGRATIONS)]


def test_apply_verify_rollback_reapply(db: Db, run_cli) -> None:
    result = run_cli(*apply_args(db, MIGRATIONS))
    assert result.code == 0, result.text
    assert db.history() == FILES  # both 004 files, keyed by (version, name)
    lines = [line for line in result.out.splitlines() if line.startswith("applied")]
    assert len(lines) == 6 and all(line.endswith("ms)") or line.endswith("s)") for line in lines)
    assert run_cli("status", *_url_args(db)).code == 0
    verified = run_cli("verify", *_url_args(db))
    assert verified.code == 0, verified.text
    assert "matches" in verified.out

    rolled = run_cli("rollback", "--to", "0", *_url_args(db))
    assert rolled.code == 0, rolled.text
    order = [line.split()[2] for line in rolled.out.splitlines() if line.startswith("rolled back")]
    assert order == [f"{v}_{n}_rollback.sql" for v, n in reversed(FILES)]  # newest first
    assert db.history() == []
    assert db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == 0
    assert db.scalar("SELECT count(*) FROM storage.buckets") == 0
    assert run_cli("status", *_url_args(db)).code == 1  # everything pending

    again = run_cli(*apply_args(db, MIGRATIONS))
    assert again.code == 0, again.text
    assert db.history() == FILES
    assert run_cli("verify", *_url_args(db)).code == 0
    assert PASSWORD not in result.text + verified.text + rolled.text + again.text


def test_history_row_contents(db: Db, run_cli) -> None:
    assert run_cli(*apply_args(db, MIGRATIONS)).code == 0
    rows = db.query(
        "SELECT length(checksum), execution_ms >= 0, applied_by <> '', tool_version, method, applied_at <= now()"
        " FROM mobius_sqlcheck.schema_history"
    )
    assert len(rows) == 6
    assert all(row == (64, True, True, "0.1.0", "apply", True) for row in rows)


def test_second_apply_is_a_no_op(db: Db, run_cli) -> None:
    assert run_cli(*apply_args(db, MIGRATIONS)).code == 0
    again = run_cli(*apply_args(db, MIGRATIONS))
    assert again.code == 0
    assert "nothing to apply" in again.out


def test_target_dry_run_and_steps(db: Db, run_cli) -> None:
    dry = run_cli(*apply_args(db, MIGRATIONS, "--dry-run"))
    assert dry.code == 0 and dry.out.count("would apply") == 6
    assert not db.exists("mobius_sqlcheck.schema_history") or db.history() == []

    assert run_cli(*apply_args(db, MIGRATIONS, "--target", "003")).code == 0
    assert db.history() == FILES[:3]
    assert run_cli(*apply_args(db, MIGRATIONS, "--target", "004")).code == 0
    assert db.history() == FILES[:5]

    assert run_cli("rollback", "--steps", "2", *_url_args(db)).code == 0
    assert db.history() == FILES[:3]
    dry_back = run_cli("rollback", "--steps", "1", "--dry-run", *_url_args(db))
    assert "would undo" in dry_back.out and db.history() == FILES[:3]


def test_json_output(db: Db, run_cli) -> None:
    result = run_cli(*apply_args(db, MIGRATIONS, "--format", "json"))
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["ok"] is True and document["command"] == "apply"
    assert [(m["version"], m["name"], m["action"]) for m in document["migrations"]] == [
        (v, n, "applied") for v, n in FILES
    ]
    assert all(isinstance(m["ms"], float) for m in document["migrations"])
    assert PASSWORD not in result.out and "***" in document["database"]

    status = json.loads(run_cli("status", "--format", "json", *_url_args(db)).out)
    assert status["summary"] == {"applied": 6, "pending": 0, "modified": 0, "missing": 0, "invalid indexes": 0}
    verify = json.loads(run_cli("verify", "--format", "json", *_url_args(db)).out)
    assert verify["ok"] is True and verify["differences"] == []

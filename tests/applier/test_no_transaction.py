"""No-transaction files (`-- mobius-sqlcheck: no-transaction`): statements in
autocommit one by one through the pooler; concurrent runs are kept out by the
lease, not by a session lock."""

from __future__ import annotations

import io
import re
from pathlib import Path

import psycopg

import pytest

from mobius_sqlcheck.applier import history, lease
from tests.applier.helpers import Db, apply_args, spawn, wait_until, write_migrations

pytestmark = pytest.mark.pg17  # runs on PostgreSQL 17 as well (tests/conftest.py)

DIRECTIVE = "-- mobius-sqlcheck: no-transaction\n"


def _files(sleep: float = 2.0) -> dict[str, str]:
    return {
        "001_table.sql": "CREATE TABLE items (id int, name text);\nINSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 1000) g;\n"
                         "CREATE SEQUENCE notx_runs;\n",
        "002_index.sql": DIRECTIVE + (
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_items_name ON items (name);\n"
            "SELECT nextval('notx_runs');\n"  # counts how often the file's statements ran
            f"SELECT pg_sleep({sleep});\n"
        ),
        "003_after.sql": "CREATE TABLE after_index (id int);\nSELECT nextval('notx_runs') * 0;\n",
    }


def test_runs_outside_a_transaction(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", _files(sleep=0))
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 0, result.text
    assert "002_index.sql" in result.out and "no transaction" in result.out
    assert db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_items_name'::regclass") is True
    assert len(db.history()) == 3
    assert db.query(f"SELECT count(*) FROM {history.LEASE}") == [(0,)]  # released


def test_concurrent_run_is_kept_out(db: Db, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", _files(sleep=2.0))
    first = spawn(*apply_args(db, migrations, "--skip-lint"))
    wait_until(lambda: db.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'SELECT pg_sleep%%'", (db.name,)
    ) == 1)
    second = spawn(*apply_args(db, migrations, "--skip-lint"))
    out2, err2 = second.communicate(timeout=60)
    out1, err1 = first.communicate(timeout=60)
    assert first.returncode == 0 and second.returncode == 0, out1 + err1 + out2 + err2
    assert re.search(r"waiting: another run \(\S+@\S+ pid \d+ \w+\) is applying 002_index\.sql without a transaction; "
                     r"its lease expires in \d+ s unless renewed \(giving up in \d+ s\)", out2), out2
    # The second run neither ran 002's statements nor ran 003 before 002 was recorded.
    assert db.scalar("SELECT last_value FROM notx_runs") == 2  # once in 002, once in 003
    assert len(db.history()) == 3
    applied_at = dict(((v, n), t) for v, n, t in db.query(f"SELECT version, name, applied_at FROM {history.HISTORY}"))
    assert applied_at[("002", "index")] < applied_at[("003", "after")]


def test_expired_lease_of_a_dead_run_is_taken_over(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", _files(sleep=0))
    assert run_cli(*apply_args(db, migrations, "--skip-lint", "--target", "001")).code == 0
    # A run that died mid-file: its lease is left behind and has expired.
    db.query(f"INSERT INTO {history.LEASE} (owner, migration, expires_at) VALUES ('dead', '002_index.sql', now() - interval '1 second')")
    db.query("CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_items_name ON items (name)")  # it got this far
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 0, result.text
    assert "waiting" not in result.out
    assert len(db.history()) == 3


def test_live_lease_blocks_transactional_migrations_too(db: Db, servers, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", _files(sleep=0))
    with psycopg.connect(db.url, autocommit=True, prepare_threshold=None) as conn:
        history.ensure_schema(conn)
        with conn.transaction():
            history.take_lock(conn)
            # long enough to outlive the start of a Python process on a loaded machine
            lease.claim(conn, "other-owner", "009_other.sql", ttl=4.0)
    result = spawn(*apply_args(db, migrations, "--skip-lint", "--target", "001"))
    out, err = result.communicate(timeout=30)
    assert result.returncode == 0, out + err
    assert "waiting: another run (other-owner) is applying 009_other.sql" in out  # then the lease expired


def test_non_idempotent_statement_is_refused(db: Db, run_cli, tmp_path: Path) -> None:
    files = _files(sleep=0)
    files["002_index.sql"] = DIRECTIVE + "\nCREATE INDEX CONCURRENTLY idx_items_name ON items (name);\n"
    migrations = write_migrations(tmp_path / "migrations", files)
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 1
    assert "002_index.sql:3:1: MSC504 CREATE INDEX CONCURRENTLY without IF NOT EXISTS" in result.err
    assert db.history() == [("001", "table")]


def test_failing_statement_releases_the_lease(db: Db, run_cli, tmp_path: Path) -> None:
    files = _files(sleep=0)
    files["002_index.sql"] = DIRECTIVE + (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_items_name ON items (name);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_items_bad ON items (no_such);\n"
    )
    migrations = write_migrations(tmp_path / "migrations", files)
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 1
    # PostgreSQL gives no position for this error: the failing statement is named
    assert "002_index.sql:3:1: column \"no_such\" does not exist" in result.err
    assert "statements before the failing one stay applied" in result.err
    assert db.history() == [("001", "table")]
    assert db.query(f"SELECT count(*) FROM {history.LEASE}") == [(0,)]
    assert db.exists("public.idx_items_name")  # autocommit: the first statement stays


def test_heartbeat_keeps_a_short_lease_alive(db: Db, tmp_path: Path) -> None:
    """A statement longer than the lease's lifetime: the heartbeat renews it,
    so a concurrent run still waits instead of taking over."""
    import threading

    from mobius_sqlcheck.applier.database import Database, make_target
    from mobius_sqlcheck.applier.output import Reporter
    from mobius_sqlcheck.applier.runner import Job, Runner, Settings
    from mobius_sqlcheck.applier.script import load_script
    from mobius_sqlcheck.migrations import load_migration_set

    files = _files(sleep=2.5)
    migrations = write_migrations(tmp_path / "migrations", files)
    first, second, third = load_migration_set(str(migrations)).forwards
    settings = Settings(lease_ttl=1.0, poll_seconds=0.05)

    def runner() -> Runner:
        return Runner(Database(make_target(db.url)), settings, Reporter("apply", stream=io.StringIO()))

    setup = runner()
    setup.prepare()
    setup.run(Job(first, load_script(first.path)))
    long_run = threading.Thread(target=lambda: runner().run(Job(second, load_script(second.path))))
    long_run.start()
    wait_until(lambda: db.scalar(f"SELECT count(*) FROM {history.LEASE}") == 1)
    other = runner()
    outcome = other.run(Job(third, load_script(third.path)))  # must wait for 002, ~2.5 s > 1 s lease
    long_run.join()
    assert outcome.action == "applied"
    assert "waiting" in other.reporter.stream.getvalue()
    recorded = db.query(f"SELECT name FROM {history.HISTORY} ORDER BY applied_at")
    assert recorded == [("table",), ("index",), ("after",)]

"""PgBouncer restarted under a running applier: between two migrations, and
in the middle of one. The applier reconnects; the history re-read under the
lock tells whether the interrupted transaction had committed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mobius_sqlcheck.applier.database import Database, make_target
from mobius_sqlcheck.applier.output import Reporter
from mobius_sqlcheck.applier.runner import Job, Runner, Settings
from mobius_sqlcheck.applier.script import load_script
from mobius_sqlcheck.migrations import load_migration_set
from tests.applier.helpers import Db, apply_args, spawn, wait_until, write_migrations

pytestmark = pytest.mark.pg17  # runs on PostgreSQL 17 as well (tests/conftest.py)


def test_restart_between_migrations(db: Db, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {
        "001_one.sql": "CREATE TABLE one (id int);\n",
        "002_two.sql": "CREATE TABLE two (id int);\n",
    })
    first, second = load_migration_set(str(migrations)).forwards
    output = io.StringIO()
    database = Database(make_target(db.url))
    runner = Runner(database, Settings(), Reporter("apply", stream=output))
    runner.prepare()
    assert runner.run(Job(first, load_script(first.path))).action == "applied"
    old_connection = database.conn

    db.servers.restart_pooler()  # every client connection drops

    assert runner.run(Job(second, load_script(second.path))).action == "applied"
    assert database.conn is not old_connection
    assert "reconnecting" in output.getvalue()
    assert db.history() == [("001", "one"), ("002", "two")]
    database.close()


def _apply_restarting_the_pooler_in_the_sleep(db: Db, migrations: Path) -> str:
    """`apply` in its own process, PgBouncer restarted while a migration runs
    its pg_sleep; the run must still succeed. Returns its stdout."""
    process = spawn(*apply_args(db, migrations, "--skip-lint"))
    wait_until(lambda: db.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'SELECT pg_sleep%%'", (db.name,)
    ) == 1)
    db.servers.restart_pooler()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out + err
    return out


def test_restart_during_a_migration(db: Db, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {
        "001_one.sql": "CREATE TABLE one (id int);\n",
        "002_slow.sql": "CREATE TABLE slow (id int);\nINSERT INTO slow VALUES (1);\nSELECT pg_sleep(1);\n",
        "003_three.sql": "CREATE TABLE three (id int);\n",
    })
    out = _apply_restarting_the_pooler_in_the_sleep(db, migrations)
    assert "connection lost while applying 002_slow.sql (pooler restarted?): its transaction was rolled back; " \
           "reconnecting and retrying" in out
    assert "another run" not in out  # the lock its own orphaned attempt may still hold is not another run's
    assert db.history() == [("001", "one"), ("002", "slow"), ("003", "three")]
    assert db.scalar("SELECT count(*) FROM slow") == 1  # the retried migration ran exactly once


def test_own_orphaned_attempt_is_not_called_another_run(db: Db, tmp_path: Path) -> None:
    """After the pooler restarted, the lost attempt's backend may still hold the
    migration lock for a while (here: it turned its own client check off)."""
    migrations = write_migrations(tmp_path / "migrations", {
        "001_one.sql": "CREATE TABLE one (id int);\nCREATE SEQUENCE attempts;\n",
        # Only the first attempt sleeps (a sequence is not rolled back).
        "002_slow.sql": "SELECT set_config('client_connection_check_interval', '0', true);\n"
                        "CREATE TABLE slow (id int);\nSELECT pg_sleep(CASE WHEN nextval('attempts') = 1 THEN 8 ELSE 0 END);\n",
    })
    out = _apply_restarting_the_pooler_in_the_sleep(db, migrations)
    assert "waiting: the migration lock is still held, most likely by this run's own attempt whose connection " \
           "was lost" in out
    assert "another run" not in out
    assert db.history() == [("001", "one"), ("002", "slow")]

"""The applier killed with SIGKILL in the middle of a long migration, and
eight appliers started at once, all through PgBouncer (pool size 2)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.applier.helpers import Db, apply_args, spawn, wait_until, write_migrations

pytestmark = pytest.mark.pg17  # runs on PostgreSQL 17 as well (tests/conftest.py)

SLEEP_SECONDS = 3


def test_sigkill_mid_migration_then_rerun(db: Db, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {
        "001_first.sql": "CREATE TABLE first (id int);\n",
        "002_long.sql": (
            "CREATE TABLE half_done (id int);\n"
            "INSERT INTO half_done VALUES (1);\n"
            f"SELECT pg_sleep({SLEEP_SECONDS});\n"
            "CREATE TABLE after_sleep (id int);\n"
        ),
        "003_last.sql": "CREATE TABLE last (id int);\n",
    })
    process = spawn(*apply_args(db, migrations, "--skip-lint"))
    # Kill once the server is inside the migration's pg_sleep.
    wait_until(lambda: db.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'SELECT pg_sleep%%'", (db.name,)
    ) == 1)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    process.stdout.close()
    process.stderr.close()

    assert db.history() == [("001", "first")]
    assert db.exists("public.first")
    assert not db.exists("public.half_done")  # its transaction never committed
    assert not db.exists("public.after_sleep")

    started = time.monotonic()
    rerun = spawn(*apply_args(db, migrations, "--skip-lint"))
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, out + err
    assert db.history() == [("001", "first"), ("002", "long"), ("003", "last")]
    assert db.scalar("SELECT count(*) FROM half_done") == 1
    # The orphaned server transaction held the lock until its sleep ended;
    # the re-run waited for it rather than running alongside it.
    assert time.monotonic() - started < SLEEP_SECONDS + 20


def test_eight_appliers_at_once(db: Db, tmp_path: Path) -> None:
    files = {"000_log.sql": "CREATE TABLE apply_log (version text, applied_by int DEFAULT pg_backend_pid());\n"}
    for n in range(1, 13):
        # Each migration is not repeatable (CREATE TABLE without IF NOT EXISTS)
        # and logs itself, so a double apply would fail or show twice.
        files[f"{n:03d}_step.sql"] = (
            f"CREATE TABLE step_{n} (id int);\n"
            f"INSERT INTO apply_log (version) VALUES ('{n:03d}');\n"
            "SELECT pg_sleep(0.02);\n"
        )
    migrations = write_migrations(tmp_path / "migrations", files)
    processes = [spawn(*apply_args(db, migrations, "--skip-lint")) for _ in range(8)]
    results = [p.communicate(timeout=90) + (p.returncode,) for p in processes]
    for out, err, code in results:
        assert code == 0, out + err
    assert len(db.history()) == 13
    counts = db.query("SELECT version, count(*) FROM apply_log GROUP BY version ORDER BY version")
    assert counts == [(f"{n:03d}", 1) for n in range(1, 13)]
    applied_lines = sum(out.count("\napplied ") + out.startswith("applied ") for out, _, _ in results)
    assert applied_lines == 13  # each migration applied by exactly one of the eight
    skipped = sum(out.count("skipped") for out, _, _ in results)
    assert skipped >= 0

"""Lock waits that do not starve readers: a migration behind a long reader
gives up its lock request after lock_timeout, so readers queued behind it
get through, and retries in a fresh transaction after a jittered backoff;
when it gives up, the error names the blocking backend."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import psycopg

from tests.applier.helpers import Db, apply_args, spawn, write_config, write_migrations

LOCK_TIMEOUT_SECONDS = 1.0
RETRIES = 2
# Generous: one lock_timeout, plus scheduling on a loaded 2-core machine.
READER_WAIT_BOUND_SECONDS = LOCK_TIMEOUT_SECONDS + 2.0


def _long_reader(db: Db) -> tuple[psycopg.Connection, int]:
    conn = psycopg.connect(db.direct, application_name="long-report")
    pid = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
    conn.execute("SELECT count(*) FROM brands")  # holds ACCESS SHARE until it ends
    return conn, pid


def _short_readers(db: Db, stop: threading.Event, waits: list[float]) -> threading.Thread:
    """New readers of brands, one after another, each timed."""

    def read() -> None:
        with psycopg.connect(db.direct, autocommit=True) as conn:
            while not stop.is_set():
                started = time.monotonic()
                conn.execute("SELECT count(*) FROM brands")
                waits.append(time.monotonic() - started)
                time.sleep(0.05)

    thread = threading.Thread(target=read)
    thread.start()
    return thread


def test_a_blocked_migration_does_not_starve_readers_and_names_its_blocker(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {
        "001_brands.sql": "CREATE TABLE brands (id int);\nINSERT INTO brands VALUES (1);\n",
        "002_logo.sql": "CREATE TABLE logos (id int);\nALTER TABLE brands ADD COLUMN logo text;\n",
    })
    config = write_config(tmp_path, migrations, lock_timeout="1s", lock_retries=RETRIES)
    assert run_cli(*apply_args(db, migrations, "--skip-lint", "--target", "001")).code == 0
    holder, holder_pid = _long_reader(db)
    stop, waits = threading.Event(), []
    readers = _short_readers(db, stop, waits)
    started = time.monotonic()
    process = spawn(*apply_args(db, migrations, "--skip-lint", "--config", str(config)))
    out, err = process.communicate(timeout=60)
    elapsed = time.monotonic() - started
    stop.set()
    readers.join()
    holder.close()

    print(f"{len(waits)} reads; longest reader wait {max(waits):.2f} s; lock_timeout 1s; "
          f"{RETRIES + 1} attempts took {elapsed:.2f} s")
    assert process.returncode == 1, out + err
    assert max(waits) < READER_WAIT_BOUND_SECONDS
    assert sum(1 for w in waits if w > LOCK_TIMEOUT_SECONDS / 2) >= 2  # readers did queue behind each attempt
    assert out.count("002_logo.sql: lock timeout at") == RETRIES  # then the last attempt gives up
    assert f"could not get a lock within lock_timeout = 1s in {RETRIES + 1} attempt(s)" in err
    assert f"blocked by pid {holder_pid} (long-report, idle in transaction, for " in err
    assert "SELECT count(*) FROM brands" in err, err  # the start of the blocker's query
    assert db.history() == [("001", "brands")]
    assert not db.exists("public.logos")  # each attempt rolled back whole


def test_a_lock_wait_that_ends_in_time_is_retried_and_applied(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {
        "001_brands.sql": "CREATE TABLE brands (id int);\n",
        "002_logo.sql": "ALTER TABLE brands ADD COLUMN logo text;\n",
    })
    config = write_config(tmp_path, migrations, lock_timeout="1s", lock_retries=10)
    assert run_cli(*apply_args(db, migrations, "--skip-lint", "--target", "001")).code == 0
    holder, holder_pid = _long_reader(db)
    process = spawn(*apply_args(db, migrations, "--skip-lint", "--config", str(config)))
    seen = [process.stdout.readline() for _ in range(2)]  # "database: ...", then the first timeout
    holder.close()
    out, err = process.communicate(timeout=60)
    assert "002_logo.sql: lock timeout at" in seen[1] and f"blocked by pid {holder_pid}" in seen[1], seen
    assert process.returncode == 0, out + err
    assert db.history() == [("001", "brands"), ("002", "logo")]


def test_a_no_transaction_build_gets_a_lock_timeout_too(db: Db, run_cli, tmp_path: Path) -> None:
    """CREATE INDEX CONCURRENTLY waiting for an open writer: cancelled after
    lock_timeout by the watch (a SET LOCAL has no transaction to live in),
    retried, and never recorded with the invalid index it leaves."""
    migrations = write_migrations(tmp_path / "migrations", {
        "001_items.sql": "CREATE TABLE items (id int, name text);\n",
        "002_index.sql": "-- mobius-sqlcheck: no-transaction\n"
                         "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_items_name ON items (name);\n",
    })
    config = write_config(tmp_path, migrations, lock_timeout="1s", lock_retries=1)
    assert run_cli(*apply_args(db, migrations, "--skip-lint", "--target", "001")).code == 0
    writer = psycopg.connect(db.direct, application_name="open-writer")
    writer.execute("INSERT INTO items VALUES (1, 'a')")
    writer_pid = writer.execute("SELECT pg_backend_pid()").fetchone()[0]
    started = time.monotonic()
    result = run_cli(*apply_args(db, migrations, "--skip-lint", "--config", str(config)))
    elapsed = time.monotonic() - started
    print(f"no-transaction build gave up after {elapsed:.2f} s (2 attempts, lock_timeout 1s)", file=sys.__stderr__)
    assert result.code == 1
    assert elapsed < 20
    assert "could not get a lock within lock_timeout = 1s in 2 attempt(s)" in result.err
    assert f"blocked by pid {writer_pid} (open-writer, idle in transaction" in result.err
    assert db.history() == [("001", "items")]
    writer.rollback()
    writer.close()
    fixed = run_cli(*apply_args(db, migrations, "--skip-lint", "--config", str(config)))
    assert fixed.code == 0, fixed.text
    assert db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_items_name'::regclass") is True

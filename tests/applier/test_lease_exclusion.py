"""The no-transaction lease excludes even when its heartbeat cannot renew:
the run that lost its lease cancels its statement before another run may
take the lease over, so two runs never execute one file at once."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import psycopg
import pytest

from mobius_sqlcheck.applier import history, lease
from mobius_sqlcheck.applier.database import Database, make_target
from mobius_sqlcheck.applier.ephemeral import free_port
from mobius_sqlcheck.applier.output import Reporter
from mobius_sqlcheck.applier.runner import Job, Runner, Settings
from mobius_sqlcheck.applier.script import load_script
from mobius_sqlcheck.errors import OperationFailed
from mobius_sqlcheck.migrations import load_migration_set
from tests.applier.helpers import Db, active_backends, wait_until, write_migrations

DIRECTIVE = "-- mobius-sqlcheck: no-transaction\n"
SLEEP = "SELECT pg_sleep(6)"


def test_two_appliers_with_the_heartbeat_cut_never_overlap(db: Db, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {
        "001_items.sql": "CREATE TABLE items (id int, name text);\nCREATE SEQUENCE runs;\n",
        "002_index.sql": DIRECTIVE + "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_items_name ON items (name);\n"
                         "SELECT nextval('runs');\n" f"{SLEEP};\n",
    })
    first, second = load_migration_set(str(migrations)).forwards
    settings = Settings(lease_ttl=4.0, poll_seconds=0.05)  # A gives up after 2 s, B may take over after 4 s
    # A's heartbeat connects to a port where nothing listens: every renewal is refused.
    dead = Database(make_target(db.url.replace(f":{db.servers.pooler_port}/", f":{free_port()}/")))
    a_out, b_out = io.StringIO(), io.StringIO()
    a = Runner(Database(make_target(db.url)), settings, Reporter("apply", stream=a_out), heartbeat_connect=dead.open_new)
    b = Runner(Database(make_target(db.url)), settings, Reporter("apply", stream=b_out))
    a.prepare()
    a.run(Job(first, load_script(first.path)))

    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(active_backends(db, SLEEP))
            time.sleep(0.02)

    results: dict[str, object] = {}

    def run(name: str, runner: Runner) -> None:
        try:
            results[name] = runner.run(Job(second, load_script(second.path))).action
        except BaseException as error:  # noqa: BLE001 - asserted below
            results[name] = error

    sampler = threading.Thread(target=sample)
    sampler.start()
    run_a = threading.Thread(target=run, args=("a", a))
    run_a.start()
    wait_until(lambda: 1 in samples or "a" in results)
    run_b = threading.Thread(target=run, args=("b", b))
    run_b.start()
    run_a.join(30)
    run_b.join(30)
    stop.set()
    sampler.join()

    assert isinstance(results["a"], OperationFailed), results
    assert "the no-transaction lease is lost (could not renew the lease" in str(results["a"])
    assert "its running statement was cancelled" in str(results["a"])
    assert results["b"] == "applied"
    assert "waiting: another run (" in b_out.getvalue()
    assert max(samples) == 1 and samples.count(1) > 10  # both ran the file, never at once
    assert db.scalar("SELECT last_value FROM runs") == 2
    assert db.history() == [("001", "items"), ("002", "index")]
    for runner in (a, b):
        runner.db.close()


def test_an_expired_lease_is_never_renewed(db: Db) -> None:
    with psycopg.connect(db.url, autocommit=True, prepare_threshold=None) as conn:
        history.ensure_schema(conn)
        with conn.transaction():
            history.take_lock(conn)
            lease.claim(conn, "mine", "002_index.sql", ttl=0.2)
        assert lease.renew(conn, "mine", ttl=60) is True
        with conn.transaction():
            history.take_lock(conn)
            lease.claim(conn, "mine", "002_index.sql", ttl=0.2)
        time.sleep(0.4)
        assert lease.holds(conn, "mine") is False
        assert lease.renew(conn, "mine", ttl=60) is False  # may be another run's by now


def test_a_waiting_applier_gives_up_after_its_deadline(db: Db, run_cli, tmp_path: Path) -> None:
    from tests.applier.helpers import apply_args, write_config

    migrations = write_migrations(tmp_path / "migrations", {"001_items.sql": "CREATE TABLE items (id int);\n"})
    config = write_config(tmp_path, migrations, lease_wait_timeout="1s")
    with psycopg.connect(db.url, autocommit=True, prepare_threshold=None) as conn:
        history.ensure_schema(conn)
        with conn.transaction():
            history.take_lock(conn)
            lease.claim(conn, "ci@runner-7 pid 42 abc", "009_other.sql", ttl=120)
    started = time.monotonic()
    result = run_cli(*apply_args(db, migrations, "--skip-lint", "--config", str(config)))
    assert result.code == 1
    assert time.monotonic() - started < 30
    assert "waiting: another run (ci@runner-7 pid 42 abc) is applying 009_other.sql without a transaction; " \
           "its lease expires in 1" in result.out  # 119 or 120 s
    assert "001_items.sql: gave up after waiting 1s (lease_wait_timeout): another run (ci@runner-7 pid 42 abc)" in result.err
    assert db.history() == []


@pytest.mark.parametrize("value", ["soon", "10 parsecs", ""])
def test_bad_durations_are_refused(run_cli, tmp_path: Path, value: str) -> None:
    from tests.applier.helpers import write_config

    migrations = write_migrations(tmp_path / "migrations", {"001_items.sql": "CREATE TABLE items (id int);\n"})
    config = write_config(tmp_path, migrations, lock_timeout=value)
    result = run_cli("status", "--database-url", "postgresql://u@127.0.0.1:1/x", "--config", str(config))
    assert result.code == 2
    assert "tool.mobius_sqlcheck.lock_timeout:" in result.err and "is not a duration" in result.err

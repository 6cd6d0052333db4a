"""Stop means stop: a backend terminated by an operator is not retried, and
SIGTERM / SIGINT cancel the running statement so its locks go at once."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import psycopg
import pytest

from mobius_sqlcheck.applier.ephemeral import free_port
from mobius_sqlcheck.applier.session import StopSignals
from mobius_sqlcheck.errors import Terminated
from tests.applier.helpers import Db, active_backends, apply_args, spawn, wait_until, write_migrations

# A bound for "at once": the cancel, the rollback and a loaded test machine.
UNBLOCKED_WITHIN_SECONDS = 5.0


def _files() -> dict[str, str]:
    return {
        "001_brands.sql": "CREATE TABLE brands (id int);\nINSERT INTO brands VALUES (1);\n",
        "002_slow.sql": "ALTER TABLE brands ADD COLUMN logo text;\nSELECT pg_sleep(60);\n",
    }


def _reader(db: Db, finished: dict[str, float]) -> threading.Thread:
    """A reader of brands that waits behind the migration's ACCESS EXCLUSIVE lock."""

    def read() -> None:
        with psycopg.connect(db.direct, autocommit=True, application_name="reader") as conn:
            conn.execute("SELECT count(*) FROM brands")
        finished["at"] = time.monotonic()

    thread = threading.Thread(target=read)
    thread.start()
    wait_until(lambda: db.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'reader' AND wait_event_type = 'Lock'") == 1)
    return thread


def test_a_terminated_backend_stops_the_run_without_a_retry(db: Db, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", _files())
    process = spawn(*apply_args(db, migrations, "--skip-lint"))
    wait_until(lambda: active_backends(db, "SELECT pg_sleep(60)") == 1)
    db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND query = 'SELECT pg_sleep(60)'",
             (db.name,))
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1, out + err
    assert "002_slow.sql: the server ended the connection (SQLSTATE 57P01" in err
    assert "its transaction was rolled back; not retried" in err
    assert "reconnecting" not in out + err
    assert active_backends(db, "SELECT pg_sleep(60)") == 0  # it did not start again
    assert db.history() == [("001", "brands")]
    assert db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'brands' AND column_name = 'logo'") == 0


@pytest.mark.parametrize(("sig", "code", "said"), [(signal.SIGTERM, 143, "terminated (SIGTERM)"),
                                                   (signal.SIGINT, 130, "interrupted")], ids=["SIGTERM", "SIGINT"])
def test_a_signal_cancels_the_statement_and_frees_its_locks(db: Db, tmp_path: Path, sig: int, code: int, said: str) -> None:
    migrations = write_migrations(tmp_path / "migrations", _files())
    process = spawn(*apply_args(db, migrations, "--skip-lint"))
    wait_until(lambda: active_backends(db, "SELECT pg_sleep(60)") == 1)
    finished: dict[str, float] = {}
    reader = _reader(db, finished)
    sent = time.monotonic()
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    reader.join(30)
    waited = finished.get("at", float("inf")) - sent
    print(f"reader unblocked {waited:.2f} s after {sig.name}")
    assert waited < UNBLOCKED_WITHIN_SECONDS
    assert process.returncode == code, out + err
    assert said in err
    assert db.history() == [("001", "brands")]
    assert db.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query = 'SELECT pg_sleep(60)'",
                     (db.name,)) == 0  # no orphan left on the server


def test_a_dead_pooler_frees_the_orphans_locks(db: Db, tmp_path: Path) -> None:
    """client_connection_check_interval: once the pooler is gone, the orphaned
    backend stops at its next check instead of sleeping on with its locks."""
    migrations = write_migrations(tmp_path / "migrations", _files())
    process = spawn(*apply_args(db, migrations, "--skip-lint"))
    try:
        wait_until(lambda: active_backends(db, "SELECT pg_sleep(60)") == 1)
        finished: dict[str, float] = {}
        reader = _reader(db, finished)
        stopped = time.monotonic()
        db.servers.stop_pooler()
        reader.join(30)
        waited = finished.get("at", float("inf")) - stopped
        print(f"reader unblocked {waited:.2f} s after the pooler stopped")
        assert waited < UNBLOCKED_WITHIN_SECONDS
    finally:
        process.kill()
        process.communicate(timeout=30)
        db.servers.start_pooler()
    assert db.history() == [("001", "brands")]


def _own_handler(signum: int, frame: object) -> None:
    raise AssertionError("the test's own handler: never called")


@pytest.fixture
def own_handlers():
    """The test process's SIGTERM / SIGINT handlers, replaced by one of ours for the test."""
    previous = {sig: signal.signal(sig, _own_handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _live_timers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if isinstance(thread, threading.Timer)]


def test_an_in_process_run_puts_the_signal_handlers_back(db: Db, tmp_path: Path, run_cli, own_handlers) -> None:
    """cli.main in a longer-lived process (a script, an editor, this suite):
    the stop handlers are there during the run only, whether it succeeds or fails."""
    migrations = write_migrations(tmp_path / "migrations", {"001_brands.sql": "CREATE TABLE brands (id int);\n"})
    applied = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert applied.code == 0, applied.text
    closed = run_cli("status", "--database-url", f"postgresql://postgres@127.0.0.1:{free_port()}/postgres",
                     "--migrations", str(migrations))
    assert closed.code == 1 and "cannot connect to" in closed.err
    assert signal.getsignal(signal.SIGTERM) is _own_handler
    assert signal.getsignal(signal.SIGINT) is _own_handler


def test_a_stop_signal_raises_in_the_run_and_the_end_of_the_run_cancels_the_forced_exit(own_handlers) -> None:
    """The handler turns SIGTERM into Terminated (SIGINT into KeyboardInterrupt)
    and arms the exit after STOP_GRACE_SECONDS; once the run has unwound,
    restore() disarms it (else it would end the host process later)."""
    stop = StopSignals()
    stop.install()
    assert signal.getsignal(signal.SIGTERM) is not _own_handler
    with pytest.raises(Terminated):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs at the next bytecode: never reached
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    assert len(_live_timers()) == 1  # one forced exit armed, not one per signal
    stop.restore()
    for timer in _live_timers():
        timer.join(5)
    assert _live_timers() == []
    assert signal.getsignal(signal.SIGTERM) is _own_handler and signal.getsignal(signal.SIGINT) is _own_handler

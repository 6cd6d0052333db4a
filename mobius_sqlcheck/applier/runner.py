"""Runs one migration (or one rollback) safely through a transaction pooler.

Transactional file, in one transaction:
    take pg_advisory_xact_lock (with the try_ form: a run that must wait rolls
    back and sleeps, so it holds none of the pooler's server connections while
    it waits) -> wait likewise if another run holds a live lease ->
    SET LOCAL timeouts -> re-read its history row (another run may have done
    it meanwhile: skip) -> run the statements -> write / delete the history
    row -> commit.
A crash or SIGKILL at any point leaves nothing: the transaction dies with
the connection.

No-transaction file: claim the lease under the lock (lease.py), run the
statements one by one in autocommit while a heartbeat keeps the lease alive,
then record the migration and release the lease under the lock. Before each
statement the lease is checked; a statement that builds an index first
drops an invalid leftover of it and is checked to be valid afterwards
(indexes.py).

Faults:
- A lock wait longer than `lock_timeout` (the server's SET LOCAL inside a
  transaction, the watch of locks.py outside one) ends the attempt; it is
  retried `lock_retries` times, each time from scratch in a fresh
  transaction after a jittered backoff, so readers queued behind the
  migration's lock request get through in between. Giving up names the
  blocking backends.
- A lost connection is retried only where the server cannot have kept any
  effect of the attempt: connecting failed, or the connection closed with
  no error from the server while a transaction was open (the server rolls
  back the transaction of a client that is gone; whether a lost COMMIT
  landed is read back from the history under the lock). Never retried:
  57P01/57P02/57P03 (pg_terminate_backend, a server shutdown: someone
  stopped it on purpose), a cancel, and a connection lost while a
  no-transaction statement ran (it may have run, or still run).
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import psycopg

from mobius_sqlcheck.applier import history, indexes, lease, locks, supabase_history
from mobius_sqlcheck.applier.database import Database
from mobius_sqlcheck.applier.errors import StatementFailure, describe, error_offset
from mobius_sqlcheck.applier.output import Reporter
from mobius_sqlcheck.applier.script import Piece, Script, policy_problems
from mobius_sqlcheck.config import parse_duration
from mobius_sqlcheck.errors import OperationFailed
from mobius_sqlcheck.migrations import MigrationFile

MAX_RECONNECTS = 3
# Stopped on purpose (pg_terminate_backend, a server shutdown or crash): final.
STOPPED_SQLSTATES = {"57P01": "administrator command (pg_terminate_backend or a server shutdown)",
                     "57P02": "a server crash", "57P03": "the server is shutting down"}
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired
QUERY_CANCELED = "57014"
# A transaction of ours never idles on purpose: a long idle means our client is stuck or gone.
IDLE_IN_TRANSACTION_TIMEOUT = "1min"
# How often a backend checks, while a statement runs, that its client is still there (PostgreSQL 14+).
CLIENT_CHECK_INTERVAL = "1s"
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 10.0
WAIT_NOTE_EVERY_SECONDS = 30.0
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    statement_timeout: str = "15min"
    lock_timeout: str = "3s"
    lock_retries: int = 5
    wait_timeout: str = "30min"  # config key lease_wait_timeout
    lease_ttl: float = lease.DEFAULT_TTL_SECONDS
    poll_seconds: float = 0.25
    supabase_history: str = "read"  # "write": also keep the Supabase CLI's history (supabase_history.py)

    @property
    def lock_timeout_seconds(self) -> float:
        return parse_duration(self.lock_timeout)


@dataclass(frozen=True)
class Outcome:
    action: str  # "applied", "rolled back", "skipped"
    ms: float
    detail: str = ""


@dataclass(frozen=True)
class Job:
    """Run `script` for `migration` (the forward file, the history key);
    `undo` means it is the rollback file and the row is deleted."""

    migration: MigrationFile
    script: Script
    undo: bool = False

    @property
    def label(self) -> str:
        if not self.undo:
            return self.migration.filename
        if self.script.path == self.migration.path:  # a section of the same file (dbmate)
            return f"{self.migration.filename} (down)"
        rollback = os.path.basename(self.script.path)
        if "/" in self.migration.filename:  # diesel: down.sql in the migration's own directory
            return f"{self.migration.filename.rsplit('/', 1)[0]}/{rollback}"
        return rollback


class MigrationFailed(Exception):
    """A statement failed; its transaction (if any) was rolled back."""

    def __init__(self, failure: StatementFailure) -> None:
        super().__init__(failure.render())
        self.failure = failure


class _Busy(Exception):
    """Another run holds the lock or a live lease: roll back (which hands the
    server connection back to the pooler), wait, try again. `key` stays the
    same while the reason is the same (the time left changes)."""

    def __init__(self, reason: str, key: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


class _LockTimedOut(Exception):
    """A statement waited longer than lock_timeout; its attempt was rolled back."""

    def __init__(self, failure: StatementFailure, blockers: tuple[locks.Blocker, ...]) -> None:
        super().__init__(failure.render())
        self.failure = failure
        self.blockers = blockers


class _LostMidStatement(Exception):
    """The connection went while a no-transaction statement ran: it may have run."""


def _cancel(conn: psycopg.Connection) -> None:
    """A cancel request for whatever runs on `conn` (from another thread);
    through a pooler it reaches the server connection running it."""
    try:
        conn.cancel_safe()
    except psycopg.Error:
        pass  # the connection is gone: so is what ran on it, or the server ends it at its next check


class Runner:
    def __init__(self, db: Database, settings: Settings, reporter: Reporter,
                 heartbeat_connect: Callable[[], psycopg.Connection] | None = None) -> None:
        self.db = db
        self.settings = settings
        self.reporter = reporter
        self.token = lease.new_token()
        self.heartbeat_connect = heartbeat_connect or db.open_new
        self._reconnected = False  # within the current step: a lock held may be our own lost attempt's

    def prepare(self) -> None:
        """Create the history schema if needed (and the Supabase CLI's, when we keep it too)."""
        self._retrying(history.ensure_schema, "creating the history schema")
        if self.settings.supabase_history == supabase_history.WRITE:
            self._retrying(self._ensure_supabase_table, "creating the Supabase CLI's history table")

    def _ensure_supabase_table(self, conn: psycopg.Connection) -> None:
        with conn.transaction():
            history.take_lock(conn)
            supabase_history.ensure_table(conn)

    def run(self, job: Job) -> Outcome:
        problems = policy_problems(job.script)
        if problems:
            raise OperationFailed("refusing to run:\n  " + "\n  ".join(problems))
        if not job.script.no_transaction:
            return self._retrying(lambda conn: self._in_transaction(conn, job), job.label)
        return self._retrying(lambda conn: self._without_transaction(conn, job), job.label, in_transaction=False)

    # --- the two ways to run a file ---

    def _in_transaction(self, conn: psycopg.Connection, job: Job) -> Outcome:
        with conn.transaction():
            self._set_local_timeouts(conn)
            self._lock_and_wait(conn)
            done = self._already_done(conn, job)
            if done is not None:
                return done
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            pid = row[0] if row is not None else None  # fixed for the transaction
            started = time.perf_counter()
            for piece in job.script.pieces:
                self._execute(conn, job.script, piece, piece.text, pid=pid)
            ms = (time.perf_counter() - started) * 1000
            self._bookkeep(conn, job, ms)
        return Outcome("rolled back" if job.undo else "applied", ms)

    def _without_transaction(self, conn: psycopg.Connection, job: Job) -> Outcome:
        with conn.transaction():
            self._set_local_timeouts(conn)
            self._lock_and_wait(conn)
            done = self._already_done(conn, job)
            if done is not None:
                return done
            lease.claim(conn, self.token, job.label, self.settings.lease_ttl)
        started = time.perf_counter()
        heartbeat = lease.Heartbeat(self.heartbeat_connect, self.token, self.settings.lease_ttl, lambda: _cancel(conn))
        with heartbeat:
            try:
                for piece in job.script.pieces:
                    self._check_lease(conn, heartbeat, job)
                    self._run_without_transaction(conn, job, piece, heartbeat)
            except BaseException:
                # Failed, interrupted or disconnected: free the lease now rather
                # than make the next run wait for it to expire.
                self._release_lease_quietly()
                raise
        ms = (time.perf_counter() - started) * 1000
        with conn.transaction():
            self._set_local_timeouts(conn)
            history.take_lock(conn)
            if heartbeat.lost or not lease.holds(conn, self.token):
                raise OperationFailed(self._lease_lost_message(job, heartbeat))
            self._bookkeep(conn, job, ms)
            lease.release(conn, self.token)
        return Outcome("rolled back" if job.undo else "applied", ms, "no transaction")

    def _run_without_transaction(self, conn: psycopg.Connection, job: Job, piece: Piece,
                                 heartbeat: lease.Heartbeat) -> None:
        index = indexes.built_index(piece)
        try:
            if index is not None:
                self._drop_invalid_leftover(conn, job, piece, index)
            self._execute(conn, job.script, piece, piece.text, cancel_after=self.settings.lock_timeout_seconds)
            if index is not None:
                self._check_built(conn, job, piece, index)
        except MigrationFailed as failed:
            if heartbeat.lost and failed.failure.sqlstate == QUERY_CANCELED:
                raise OperationFailed(self._lease_lost_message(job, heartbeat)) from None
            raise
        except psycopg.Error as error:
            if self.db.is_lost(error) and error.sqlstate not in STOPPED_SQLSTATES:
                raise _LostMidStatement() from error
            raise

    def _lease_lost_message(self, job: Job, heartbeat: lease.Heartbeat) -> str:
        why = heartbeat.reason or "the lease expired or another run took it over"
        return (f"{job.label}: stopped, the no-transaction lease is lost ({why}): its running statement was "
                "cancelled so that no other run overlaps it, and the migration is not recorded. Its statements "
                "are idempotent: run apply again")

    # --- steps ---

    def _lock_and_wait(self, conn: psycopg.Connection) -> None:
        if not history.try_lock(conn):
            if self._reconnected:
                raise _Busy("the migration lock is still held, most likely by this run's own attempt whose "
                            "connection was lost (the server ends it once it notices the client is gone)", "own")
            raise _Busy("another run holds the migration lock", "lock")
        holder = lease.other_holder(conn, self.token)
        if holder is not None:
            raise _Busy(f"another run ({holder.owner}) is applying {holder.migration} without a transaction; "
                        f"its lease expires in {holder.seconds_left:.0f} s unless renewed",
                        f"lease {holder.owner} {holder.migration}")

    def _check_lease(self, conn: psycopg.Connection, heartbeat: lease.Heartbeat, job: Job) -> None:
        if heartbeat.lost or not lease.holds(conn, self.token):
            raise OperationFailed(self._lease_lost_message(job, heartbeat))

    def _set_local_timeouts(self, conn: psycopg.Connection) -> None:
        # set_config(..., true) is SET LOCAL: it ends with the transaction, so
        # nothing leaks to the pooler's next client.
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true),"
            " set_config('idle_in_transaction_session_timeout', %s, true)",
            (self.settings.statement_timeout, self.settings.lock_timeout, IDLE_IN_TRANSACTION_TIMEOUT),
        )
        if conn.info.server_version >= 140000:
            conn.execute("SELECT set_config('client_connection_check_interval', %s, true)", (CLIENT_CHECK_INTERVAL,))

    def _already_done(self, conn: psycopg.Connection, job: Job) -> Outcome | None:
        row = history.find(conn, job.migration.version, job.migration.name)
        if job.undo:
            return Outcome("skipped", 0.0, "already rolled back by another run") if row is None else None
        if row is None:
            return None
        if row.checksum != job.script.checksum:
            if job.migration.repeatable:  # Flyway R__: changed, so applied again
                return None
            raise OperationFailed(
                f"{job.label} was modified after it was applied (checksum differs): "
                "restore the applied version; a change belongs in a new migration"
            )
        return Outcome("skipped", 0.0, "already applied by another run")

    def _bookkeep(self, conn: psycopg.Connection, job: Job, ms: float) -> None:
        if job.undo or job.migration.repeatable:
            history.forget(conn, job.migration.version, job.migration.name)
        if not job.undo:
            history.record(conn, job.migration.version, job.migration.name, job.script.checksum, round(ms))
        if self.settings.supabase_history == supabase_history.WRITE:
            self._bookkeep_supabase(conn, job)

    def _bookkeep_supabase(self, conn: psycopg.Connection, job: Job) -> None:
        """The row `supabase db push` would write (or delete), in the same transaction."""
        migration = job.migration
        if job.undo:
            supabase_history.forget(conn, migration.version, migration.name)
        elif not supabase_history.record(conn, migration.version, migration.name,
                                         supabase_history.file_statements(migration.path)):
            self.reporter.note(f"note: {migration.filename} is not in the Supabase CLI's history: it already has a "
                               f"row for version {migration.version} (the CLI keys by version only)")

    def _execute(self, conn: psycopg.Connection, script: Script, piece: Piece, text: str,
                 pid: int | None = None, cancel_after: float | None = None) -> None:
        """Run one statement (`text`, reported at `piece`) under a lock watch."""
        with locks.Watch(self.db.side_conn(), text, pid, cancel_after, lambda: _cancel(conn)) as watch:
            try:
                conn.execute(text)  # no parameters: the simple protocol, nothing prepared
            except psycopg.Error as error:
                if self.db.is_lost(error):
                    raise
                failure = self._failure(script, piece, error)
                if error.sqlstate == LOCK_NOT_AVAILABLE or (watch.timed_out and error.sqlstate == QUERY_CANCELED):
                    raise _LockTimedOut(failure, watch.blockers) from None
                raise MigrationFailed(failure) from None

    def _drop_invalid_leftover(self, conn: psycopg.Connection, job: Job, piece: Piece, index: str) -> None:
        """An invalid index of this name is what an interrupted run of this very
        statement left (the lease excludes other appliers): drop it, so that
        IF NOT EXISTS does not skip the rebuild."""
        found = indexes.state(conn, index)
        if found is None or found.valid:
            return
        if found.building_pid is not None:
            raise OperationFailed(f"{job.label}: index {index} is being built right now by backend pid "
                                  f"{found.building_pid}, not by this run: refusing to touch it")
        self.reporter.note(f"{job.label}: index {index} is invalid (left by an interrupted build): dropping and rebuilding it")
        self._execute(conn, job.script, piece, f"DROP INDEX CONCURRENTLY IF EXISTS {index}",
                      cancel_after=self.settings.lock_timeout_seconds)

    def _check_built(self, conn: psycopg.Connection, job: Job, piece: Piece, index: str) -> None:
        found = indexes.state(conn, index)
        if found is not None and found.valid:
            return
        where = job.script.position(piece, 0)
        state = "missing" if found is None else "invalid (indisvalid or indisready is false)"
        raise MigrationFailed(StatementFailure(
            job.script.path, where.line, where.column, f"index {index} is {state} after the statement",
            None, None, "the migration is not recorded; run apply again to rebuild it"))

    def _failure(self, script: Script, piece: Piece, error: psycopg.Error) -> StatementFailure:
        offset = error_offset(error)
        where = script.position(piece, offset if offset is not None else 0)
        message, detail, hint = describe(error, self.db.target.secrets)
        return StatementFailure(script.path, where.line, where.column, message, error.sqlstate, detail, hint)

    def _release_lease_quietly(self) -> None:
        try:
            with self.db.conn.transaction():
                history.take_lock(self.db.conn)
                lease.release(self.db.conn, self.token)
        except (psycopg.Error, OperationFailed):
            pass  # it expires on its own

    # --- waiting, lock retries and reconnecting ---

    def _retrying(self, step: Callable[[psycopg.Connection], T], label: str, in_transaction: bool = True) -> T:
        reconnects = lock_attempts = 0
        announced, announced_at = "", 0.0
        waiting_since: float | None = None
        wait_limit = parse_duration(self.settings.wait_timeout)
        self._reconnected = False
        while True:
            try:
                return step(self.db.conn)
            except _Busy as busy:
                now = time.monotonic()
                waiting_since = now if waiting_since is None else waiting_since
                if now - waiting_since > wait_limit:
                    raise OperationFailed(f"{label}: gave up after waiting {self.settings.wait_timeout} "
                                          f"(lease_wait_timeout): {busy.reason}") from None
                if announced != busy.key or now - announced_at >= WAIT_NOTE_EVERY_SECONDS:
                    left = wait_limit - (now - waiting_since)
                    self.reporter.note(f"waiting: {busy.reason} (giving up in {left:.0f} s)")
                    announced, announced_at = busy.key, now
                time.sleep(self.settings.poll_seconds)
            except _LockTimedOut as timed_out:
                lock_attempts += 1
                self._after_lock_timeout(label, timed_out, lock_attempts)
            except _LostMidStatement:
                raise OperationFailed(
                    f"connection lost while {label} ran a statement outside a transaction: it may have run, or still "
                    "run on the server; not retried. Statements before it stay applied; its statements are "
                    "idempotent and an invalid index it leaves is rebuilt: run apply again") from None
            except psycopg.Error as error:
                self._after_connection_error(label, error, reconnects, in_transaction)
                reconnects += 1
                self._reconnected = True
                self.db.reconnect()

    def _after_lock_timeout(self, label: str, timed_out: _LockTimedOut, attempt: int) -> None:
        """Give up after lock_retries further attempts, else back off (jittered, so
        appliers and the blocker's retries do not fall into step) and retry."""
        total = self.settings.lock_retries + 1
        who = self.db.target.scrub(locks.render_blockers(timed_out.blockers))
        where = f"{timed_out.failure.path}:{timed_out.failure.line}"
        if attempt >= total:
            failure = dataclasses.replace(
                timed_out.failure,
                message=f"could not get a lock within lock_timeout = {self.settings.lock_timeout} "
                        f"in {attempt} attempt(s): {timed_out.failure.message}",
                detail=who,
                hint="let the blocking sessions finish or stop them, then run apply again "
                     "(or raise lock_timeout / lock_retries)",
            )
            raise MigrationFailed(failure)
        delay = random.uniform(0.5, 1.5) * min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        self.reporter.note(f"{label}: lock timeout at {where} (attempt {attempt} of {total}, rolled back); "
                           f"{who}; retrying in {delay:.1f} s")
        time.sleep(delay)

    def _after_connection_error(self, label: str, error: psycopg.Error, reconnects: int, in_transaction: bool) -> None:
        """Raise unless the lost attempt can be retried (see the module docstring)."""
        if not self.db.is_lost(error):
            raise OperationFailed(self.db.target.scrub(f"database error: {error}")) from None
        kept = "its transaction was rolled back" if in_transaction else \
            "it ran outside a transaction: statements before the lost one stay applied"
        stopped = STOPPED_SQLSTATES.get(error.sqlstate or "")
        if stopped:
            raise OperationFailed(
                f"{label}: the server ended the connection (SQLSTATE {error.sqlstate}, {stopped}); {kept}; "
                "not retried: run apply again when the database is available") from None
        if reconnects >= MAX_RECONNECTS:
            raise OperationFailed(self.db.target.scrub(
                f"connection lost while applying {label}; {kept}; gave up after {reconnects} reconnect(s): "
                f"{' '.join(str(error).split())}")) from None
        self.reporter.note(f"connection lost while applying {label} (pooler restarted?): {kept}; "
                           "reconnecting and retrying")

    # --- baseline ---

    def record_baseline(self, items: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
        """Record (version, name, checksum) rows not yet recorded, in one transaction."""
        def step(conn: psycopg.Connection) -> set[tuple[str, str]]:
            recorded = set()
            with conn.transaction():
                self._set_local_timeouts(conn)
                self._lock_and_wait(conn)
                for version, name, checksum in items:
                    if history.find(conn, version, name) is None:
                        history.record(conn, version, name, checksum, 0, method="baseline")
                        recorded.add((version, name))
            return recorded

        return self._retrying(step, "baseline")

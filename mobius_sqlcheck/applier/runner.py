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
then record the migration and release the lease under the lock.

When the pooler drops the connection (PgBouncer restarted), the step is
retried on a new connection: re-reading the history under the lock tells
whether the lost transaction had committed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import psycopg

from mobius_sqlcheck.applier import history, lease, supabase_history
from mobius_sqlcheck.applier.database import Database
from mobius_sqlcheck.applier.errors import StatementFailure, describe, error_offset
from mobius_sqlcheck.applier.output import Reporter
from mobius_sqlcheck.applier.script import Piece, Script, idempotency_problems, transaction_control_problems
from mobius_sqlcheck.errors import OperationFailed
from mobius_sqlcheck.migrations import MigrationFile

MAX_RECONNECTS = 3
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    statement_timeout: str = "15min"
    lock_timeout: str = "10s"
    lease_ttl: float = lease.DEFAULT_TTL_SECONDS
    poll_seconds: float = 0.25
    supabase_history: str = "read"  # "write": also keep the Supabase CLI's history (supabase_history.py)


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
        return self.migration.filename if not self.undo else f"{self.migration.stem}_rollback.sql"


class MigrationFailed(Exception):
    """A statement failed; its transaction (if any) was rolled back."""

    def __init__(self, failure: StatementFailure) -> None:
        super().__init__(failure.render())
        self.failure = failure


class _Busy(Exception):
    """Another run holds the lock or a live lease: roll back (which hands the
    server connection back to the pooler), wait, try again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Runner:
    def __init__(self, db: Database, settings: Settings, reporter: Reporter) -> None:
        self.db = db
        self.settings = settings
        self.reporter = reporter
        self.token = lease.new_token()

    def prepare(self) -> None:
        """Create the history schema if needed (and the Supabase CLI's, when we keep it too)."""
        self._retrying(history.ensure_schema)
        if self.settings.supabase_history == supabase_history.WRITE:
            self._retrying(self._ensure_supabase_table)

    def _ensure_supabase_table(self, conn: psycopg.Connection) -> None:
        with conn.transaction():
            history.take_lock(conn)
            supabase_history.ensure_table(conn)

    def run(self, job: Job) -> Outcome:
        problems = transaction_control_problems(job.script)
        if problems:
            raise OperationFailed("refusing to run:\n  " + "\n  ".join(problems))
        if not job.script.no_transaction:
            return self._retrying(lambda conn: self._in_transaction(conn, job))
        problems = idempotency_problems(job.script)
        if problems:
            raise OperationFailed("no-transaction file with statements a re-run cannot repeat:\n  " + "\n  ".join(problems))
        return self._retrying(lambda conn: self._without_transaction(conn, job))

    # --- the two ways to run a file ---

    def _in_transaction(self, conn: psycopg.Connection, job: Job) -> Outcome:
        with conn.transaction():
            self._lock_and_wait(conn)
            self._set_local_timeouts(conn)
            done = self._already_done(conn, job)
            if done is not None:
                return done
            started = time.perf_counter()
            self._run_statements(conn, job.script)
            ms = (time.perf_counter() - started) * 1000
            self._bookkeep(conn, job, ms)
        return Outcome("rolled back" if job.undo else "applied", ms)

    def _without_transaction(self, conn: psycopg.Connection, job: Job) -> Outcome:
        with conn.transaction():
            self._lock_and_wait(conn)
            done = self._already_done(conn, job)
            if done is not None:
                return done
            lease.claim(conn, self.token, job.label, self.settings.lease_ttl)
        started = time.perf_counter()
        with lease.Heartbeat(self.db.open_new, self.token, self.settings.lease_ttl):
            try:
                self._run_statements(conn, job.script)
            except BaseException:
                # Failed, interrupted or disconnected: free the lease now rather
                # than make the next run wait for it to expire.
                self._release_lease_quietly()
                raise
        ms = (time.perf_counter() - started) * 1000
        with conn.transaction():
            history.take_lock(conn)
            if not lease.holds(conn, self.token):
                raise OperationFailed(
                    f"{job.label}: lost the no-transaction lease (it expired and another run took over); "
                    "its statements are idempotent: run apply again"
                )
            self._bookkeep(conn, job, ms)
            lease.release(conn, self.token)
        return Outcome("rolled back" if job.undo else "applied", ms, "no transaction")

    # --- steps ---

    def _lock_and_wait(self, conn: psycopg.Connection) -> None:
        if not history.try_lock(conn):
            raise _Busy("another run holds the migration lock")
        holder = lease.other_holder(conn, self.token)
        if holder is not None:
            raise _Busy(f"another run is applying {holder.migration} without a transaction")

    def _set_local_timeouts(self, conn: psycopg.Connection) -> None:
        # set_config(..., true) is SET LOCAL: it ends with the transaction, so
        # nothing leaks to the pooler's next client.
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
            (self.settings.statement_timeout, self.settings.lock_timeout),
        )

    def _already_done(self, conn: psycopg.Connection, job: Job) -> Outcome | None:
        row = history.find(conn, job.migration.version, job.migration.name)
        if job.undo:
            return Outcome("skipped", 0.0, "already rolled back by another run") if row is None else None
        if row is None:
            return None
        if row.checksum != job.script.checksum:
            raise OperationFailed(
                f"{job.label} was modified after it was applied (checksum differs): "
                "restore the applied version; a change belongs in a new migration"
            )
        return Outcome("skipped", 0.0, "already applied by another run")

    def _bookkeep(self, conn: psycopg.Connection, job: Job, ms: float) -> None:
        if job.undo:
            history.forget(conn, job.migration.version, job.migration.name)
        else:
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

    def _run_statements(self, conn: psycopg.Connection, script: Script) -> None:
        for piece in script.pieces:
            try:
                conn.execute(piece.text)  # no parameters: the simple protocol, nothing prepared
            except psycopg.Error as error:
                if self.db.is_lost(error):
                    raise
                raise MigrationFailed(self._failure(script, piece, error)) from None

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

    # --- waiting and reconnecting ---

    def _retrying(self, step: Callable[[psycopg.Connection], T]) -> T:
        reconnects = 0
        announced = ""
        while True:
            try:
                return step(self.db.conn)
            except _Busy as busy:
                if announced != busy.reason:
                    self.reporter.note(f"waiting: {busy.reason}")
                    announced = busy.reason
                time.sleep(self.settings.poll_seconds)
            except psycopg.Error as error:
                if not self.db.is_lost(error) or reconnects >= MAX_RECONNECTS:
                    raise OperationFailed(self.db.target.scrub(f"database error: {error}")) from None
                reconnects += 1
                self.reporter.note("connection lost (pooler restarted?); reconnecting and retrying")
                self.db.reconnect()

    # --- baseline ---

    def record_baseline(self, items: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
        """Record (version, name, checksum) rows not yet recorded, in one transaction."""
        def step(conn: psycopg.Connection) -> set[tuple[str, str]]:
            recorded = set()
            with conn.transaction():
                self._lock_and_wait(conn)
                for version, name, checksum in items:
                    if history.find(conn, version, name) is None:
                        history.record(conn, version, name, checksum, 0, method="baseline")
                        recorded.add((version, name))
            return recorded

        return self._retrying(step)

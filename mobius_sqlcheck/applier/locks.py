"""Watching a running statement from a second connection: who blocks it, and
a lock timeout for statements that cannot carry one.

Inside a transaction the server enforces `SET LOCAL lock_timeout`. A
no-transaction statement (CREATE INDEX CONCURRENTLY) has no transaction to
carry a SET LOCAL, and every other way to give it a lock timeout is wrong
through a transaction pooler (measured with PgBouncer 1.18, pool of 2):

- a session `SET lock_timeout` pipelined before the statement (with a Sync
  in between: without one the server refuses CONCURRENTLY in a pipeline)
  reached another server connection than the statement in 76 % of 1200
  tries under load, and leaked to other clients in 55 % of their queries;
- `SET ...; CREATE INDEX CONCURRENTLY ...` in one simple query is an
  implicit transaction block: refused (25001);
- `ALTER ROLE ... SET lock_timeout` changes every new session of the role
  (the application's too) and not the pooler's open server connections.

So the watch does it from outside: it finds the statement's backend in
pg_stat_activity (by application_name and query text), reads from pg_locks
since when it waits for a lock (`waitstart`, PostgreSQL 14+), and once that
is longer than the lock timeout it sends a cancel request on the
statement's own connection, which the pooler routes to exactly the server
connection running it. Meanwhile it keeps the latest `pg_blocking_pids`, so
a statement that gives up can name who blocked it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import psycopg

from mobius_sqlcheck.applier.database import APPLICATION_NAME

POLL_SECONDS = 0.1
QUERY_PREFIX = 200  # characters of the statement text compared with pg_stat_activity.query

# One round trip: our backend (by pid, or by application_name + query text),
# since how long it waits for a lock, and who blocks it.
_WATCH_QUERY = """
    WITH me AS (
        SELECT a.pid FROM pg_stat_activity AS a
        WHERE a.pid <> pg_backend_pid() AND a.state = 'active'
          AND (a.pid = %(pid)s::int OR (%(pid)s::int IS NULL AND a.application_name = %(app)s
                                    AND left(a.query, %(n)s) = left(%(query)s, %(n)s)))
        LIMIT 1
    )
    SELECT me.pid,
           (SELECT extract(epoch FROM clock_timestamp() - min(l.waitstart))::float8
              FROM pg_locks AS l WHERE l.pid = me.pid AND NOT l.granted),
           b.pid, b.application_name, b.state, left(regexp_replace(b.query, '\\s+', ' ', 'g'), 60),
           extract(epoch FROM clock_timestamp() - coalesce(b.xact_start, b.query_start))::float8
    FROM me LEFT JOIN pg_stat_activity AS b ON b.pid = ANY (pg_blocking_pids(me.pid))
    ORDER BY b.pid"""


@dataclass(frozen=True, slots=True)
class Blocker:
    """A backend that held a lock the statement waited for."""

    pid: int
    application_name: str
    state: str
    query: str  # the start of its (current or last) query
    seconds: float  # how long its transaction (or query) has been running

    def render(self) -> str:
        app = self.application_name or "no application_name"
        return f"pid {self.pid} ({app}, {self.state}, for {self.seconds:.1f} s): {self.query}"


def render_blockers(blockers: tuple[Blocker, ...]) -> str:
    if not blockers:
        return "the blocking backends were not seen (they had ended, or the watch could not connect)"
    return "blocked by " + "; ".join(b.render() for b in blockers)


class Watch:
    """Watches one statement while it runs on another connection.

    `pid` is the statement's backend when known (inside a transaction it is
    fixed), else the backend is found by its text. With `cancel_after`
    seconds, a lock wait longer than that is cancelled through `cancel`."""

    def __init__(self, conn: psycopg.Connection | None, query: str, pid: int | None = None,
                 cancel_after: float | None = None, cancel: Callable[[], None] | None = None) -> None:
        self._conn = conn
        self._params = {"pid": pid, "app": APPLICATION_NAME, "query": query, "n": QUERY_PREFIX}
        self._cancel_after = cancel_after
        self._cancel = cancel
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mobius-sqlcheck-watch", daemon=True)
        self.blockers: tuple[Blocker, ...] = ()
        self.timed_out = False  # the watch cancelled the statement for its lock wait

    def __enter__(self) -> Watch:
        if self._conn is not None:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        assert self._conn is not None
        while not self._stop.wait(POLL_SECONDS):
            try:
                rows = self._conn.execute(_WATCH_QUERY, self._params).fetchall()
            except psycopg.Error:
                return  # best effort: the statement runs on without a watch
            self._observe(rows)

    def _observe(self, rows: list[tuple]) -> None:
        blockers = tuple(Blocker(r[2], r[3] or "", r[4] or "", r[5] or "", r[6] or 0.0) for r in rows if r[2] is not None)
        if blockers:
            self.blockers = blockers  # keep the last ones seen: the wait may end before we report
        waited = rows[0][1] if rows else None
        if (self._cancel_after is not None and self._cancel is not None and waited is not None
                and waited >= self._cancel_after and not self.timed_out and not self._stop.is_set()):
            self.timed_out = True
            self._cancel()

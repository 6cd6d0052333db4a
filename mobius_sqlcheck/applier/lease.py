"""Exclusion for no-transaction migrations without a session lock.

A no-transaction file (e.g. CREATE INDEX CONCURRENTLY) runs statement by
statement in autocommit, so no transaction can hold the advisory lock for its
whole run, and a session advisory lock gives no exclusion through a
transaction pooler. Instead the run claims a lease: one row in
`mobius_sqlcheck.lease`, written under `pg_advisory_xact_lock` with an owner
token and an expiry. While the statements run, a heartbeat on a second
connection pushes the expiry forward. Every applier, before it applies,
rolls back or records anything, checks under the same lock that no other
owner holds a live lease, and waits if one does. If the owner dies, the lease
simply expires (default 60 s) and the next run takes over; the file's
statements must therefore be idempotent (checked before it runs).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Callable

import psycopg

from mobius_sqlcheck.applier.history import LEASE
from mobius_sqlcheck.errors import OperationFailed

DEFAULT_TTL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Holder:
    owner: str
    migration: str
    seconds_left: float


def new_token() -> str:
    return uuid.uuid4().hex


def other_holder(conn: psycopg.Connection, token: str) -> Holder | None:
    """A live lease of another owner; call with the advisory lock held."""
    row = conn.execute(
        f"SELECT owner, migration, extract(epoch FROM expires_at - clock_timestamp())::float8"
        f" FROM {LEASE} WHERE owner <> %s AND expires_at > clock_timestamp()",
        (token,),
    ).fetchone()
    return Holder(row[0], row[1], row[2]) if row else None


def claim(conn: psycopg.Connection, token: str, migration: str, ttl: float) -> None:
    """Take the lease (an expired one is taken over); call with the advisory lock held."""
    conn.execute(
        f"INSERT INTO {LEASE} (id, owner, migration, acquired_at, expires_at)"
        " VALUES (1, %s, %s, clock_timestamp(), clock_timestamp() + make_interval(secs => %s))"
        " ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, migration = excluded.migration,"
        " acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
        (token, migration, ttl),
    )


def renew(conn: psycopg.Connection, token: str, ttl: float) -> bool:
    """Push our lease's expiry forward; False when it is no longer ours."""
    cursor = conn.execute(
        f"UPDATE {LEASE} SET expires_at = clock_timestamp() + make_interval(secs => %s) WHERE owner = %s",
        (ttl, token),
    )
    return cursor.rowcount == 1


def holds(conn: psycopg.Connection, token: str) -> bool:
    row = conn.execute(f"SELECT 1 FROM {LEASE} WHERE owner = %s", (token,)).fetchone()
    return row is not None


def release(conn: psycopg.Connection, token: str) -> None:
    conn.execute(f"DELETE FROM {LEASE} WHERE owner = %s", (token,))


class Heartbeat:
    """Renews the lease every ttl/4 seconds from its own connection, so one
    long statement (an index build on a big table) keeps it alive."""

    def __init__(self, connect: Callable[[], psycopg.Connection], token: str, ttl: float) -> None:
        self._connect = connect
        self._token = token
        self._ttl = ttl
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mobius-sqlcheck-lease", daemon=True)
        self.lost = False

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        while not self._stop.wait(self._ttl / 4):
            try:
                if conn is None or conn.closed or conn.broken:
                    conn = self._connect()
                if not renew(conn, self._token, self._ttl):
                    self.lost = True
                    return
            except (psycopg.Error, OperationFailed):
                conn = None  # the pooler or server went away: try again next beat
        if conn is not None:
            conn.close()

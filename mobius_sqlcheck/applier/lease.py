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

The lease excludes only if its owner stops before it expires. So a renewal
succeeds only while the lease is unexpired (an expired lease may already be
another run's), the runner checks the lease before every statement, and
when the heartbeat has not renewed for half the lease's lifetime it calls
`on_lost`, which cancels the running statement: the other half is the
margin for the cancel to land before another run may take over.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

import psycopg

from mobius_sqlcheck.applier.history import LEASE, applied_by
from mobius_sqlcheck.errors import OperationFailed

DEFAULT_TTL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Holder:
    owner: str
    migration: str
    seconds_left: float


def new_token() -> str:
    """Unique, and readable by whoever waits for it: user@host, pid, random part."""
    return f"{applied_by()} pid {os.getpid()} {uuid.uuid4().hex[:12]}"


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
    """Push our lease's expiry forward; False when it is no longer ours or has
    expired (another run may have taken it over: an expired lease is never revived)."""
    with conn.transaction():
        # A renewal that hangs (a lock on the row, a stalled server) must not
        # outlive the lease: it fails instead, and the next beat tries again.
        conn.execute("SELECT set_config('statement_timeout', %s, true)", (f"{max(1, int(ttl * 250))}ms",))
        cursor = conn.execute(
            f"UPDATE {LEASE} SET expires_at = clock_timestamp() + make_interval(secs => %s)"
            " WHERE owner = %s AND expires_at > clock_timestamp()",
            (ttl, token),
        )
        return cursor.rowcount == 1


def holds(conn: psycopg.Connection, token: str) -> bool:
    """Whether our lease is still ours and unexpired."""
    row = conn.execute(
        f"SELECT 1 FROM {LEASE} WHERE owner = %s AND expires_at > clock_timestamp()", (token,)
    ).fetchone()
    return row is not None


def release(conn: psycopg.Connection, token: str) -> None:
    conn.execute(f"DELETE FROM {LEASE} WHERE owner = %s", (token,))


class Heartbeat:
    """Renews the lease every ttl/4 seconds from its own connection, so one
    long statement (an index build on a big table) keeps it alive. When the
    lease is no longer ours, or no renewal succeeded for ttl/2 seconds, it
    sets `lost` and calls `on_lost` once."""

    def __init__(self, connect: Callable[[], psycopg.Connection], token: str, ttl: float,
                 on_lost: Callable[[], None] = lambda: None) -> None:
        self._connect = connect
        self._token = token
        self._ttl = ttl
        self._on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mobius-sqlcheck-lease", daemon=True)
        self.lost = False
        self.reason = ""

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        renewed_at = time.monotonic()  # the claim just now counts as a renewal
        while not self._stop.wait(self._ttl / 4):
            started = time.monotonic()
            try:
                if conn is None or conn.closed or conn.broken:
                    conn = self._connect()
                if not renew(conn, self._token, self._ttl):
                    self._lose("the lease expired or another run took it over")
                    break
                renewed_at = started  # the server's expiry is at least this + ttl
            except (psycopg.Error, OperationFailed) as error:
                conn = None  # the pooler or server went away: try again next beat
                if time.monotonic() - renewed_at >= self._ttl / 2:
                    self._lose(f"could not renew the lease for {time.monotonic() - renewed_at:.1f} s "
                               f"({' '.join(str(error).split())[:120]})")
                    break
        if conn is not None:
            conn.close()

    def _lose(self, reason: str) -> None:
        self.lost = True
        self.reason = reason
        self._on_lost()

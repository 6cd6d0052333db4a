"""The tool's own schema `mobius_sqlcheck`: the history of applied migrations
and the no-transaction lease.

History is keyed by (version, name), not by version alone: the real Mobius
history has two files of version 004.

Every write happens in a transaction that holds ADVISORY_LOCK_KEY through
`pg_advisory_xact_lock`, the one lock a transaction pooler does not break.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from datetime import datetime

import psycopg

from mobius_sqlcheck import __version__

SCHEMA = "mobius_sqlcheck"
HISTORY = f"{SCHEMA}.schema_history"
LEASE = f"{SCHEMA}.lease"
# b"msqlchck" as a big-endian bigint: one constant every applier agrees on.
ADVISORY_LOCK_KEY = int.from_bytes(b"msqlchck", "big")

SETUP_STATEMENTS = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {HISTORY} (
        version text NOT NULL,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        execution_ms integer NOT NULL,
        applied_by text NOT NULL,
        tool_version text NOT NULL,
        method text NOT NULL DEFAULT 'apply' CHECK (method IN ('apply', 'baseline')),
        PRIMARY KEY (version, name)
    )""",
    f"COMMENT ON TABLE {HISTORY} IS 'Migrations applied by mobius-sqlcheck; do not edit by hand'",
    # One row at most: who runs a no-transaction migration right now.
    f"""CREATE TABLE IF NOT EXISTS {LEASE} (
        id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        owner text NOT NULL,
        migration text NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        expires_at timestamptz NOT NULL
    )""",
)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    version: str
    name: str
    checksum: str
    applied_at: datetime
    execution_ms: int
    applied_by: str
    tool_version: str
    method: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.version, self.name)

    @property
    def stem(self) -> str:
        return f"{self.version}_{self.name}"


COLUMNS = "version, name, checksum, applied_at, execution_ms, applied_by, tool_version, method"


def take_lock(conn: psycopg.Connection) -> None:
    """Serialise appliers until this transaction ends (also through a pooler)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))


def try_lock(conn: psycopg.Connection) -> bool:
    """Like take_lock, but never waits: a waiting applier would hold one of the
    pooler's few server connections for as long as it waits."""
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()
    return bool(row and row[0])


def exists(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL", (HISTORY, LEASE)).fetchone()
    return bool(row and row[0] and row[1])


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create the schema once; concurrent first runs serialise on the lock."""
    if exists(conn):
        return
    with conn.transaction():
        take_lock(conn)
        if exists(conn):
            return
        for statement in SETUP_STATEMENTS:
            conn.execute(statement)


def read_all(conn: psycopg.Connection) -> dict[tuple[str, str], HistoryRow]:
    """Every history row; empty when the history table does not exist yet."""
    if not exists(conn):
        return {}
    rows = conn.execute(f"SELECT {COLUMNS} FROM {HISTORY} ORDER BY version, name").fetchall()
    return {(r[0], r[1]): HistoryRow(*r) for r in rows}


def find(conn: psycopg.Connection, version: str, name: str) -> HistoryRow | None:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM {HISTORY} WHERE version = %s AND name = %s", (version, name)
    ).fetchone()
    return HistoryRow(*row) if row else None


def record(conn: psycopg.Connection, version: str, name: str, checksum: str, execution_ms: int,
           method: str = "apply") -> None:
    conn.execute(
        f"INSERT INTO {HISTORY} (version, name, checksum, execution_ms, applied_by, tool_version, method)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (version, name, checksum, execution_ms, applied_by(), __version__, method),
    )


def forget(conn: psycopg.Connection, version: str, name: str) -> None:
    conn.execute(f"DELETE FROM {HISTORY} WHERE version = %s AND name = %s", (version, name))


def applied_by() -> str:
    """Who ran the tool: the OS user and machine (the database role is often
    the same `postgres` for everyone)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"

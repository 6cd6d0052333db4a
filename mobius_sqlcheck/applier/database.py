"""Which database, whether the policy allows it, and one pooler-safe connection.

Pooler-safe: autocommit (the applier opens every transaction itself),
`prepare_threshold=None` (a transaction pooler breaks prepared statements),
no `options` startup parameter (PgBouncer rejects it) and no session SET.
`application_name` is a startup parameter PgBouncer passes through.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Mapping

import psycopg

from mobius_sqlcheck import connstr
from mobius_sqlcheck.applier.errors import connect_failure_message, hint_for, safe_text
from mobius_sqlcheck.errors import OperationFailed, UsageError

APPLICATION_NAME = "mobius-sqlcheck"
CONNECT_TIMEOUT_SECONDS = 10
# After the pooler or server drops us (a PgBouncer restart, a failover), how
# long to keep trying before giving up.
RECONNECT_SECONDS = 20.0


@dataclass(frozen=True)
class Target:
    conninfo: str  # holds the password: never print it, print `display`
    display: str
    secrets: tuple[str, ...]

    def scrub(self, text: str) -> str:
        return safe_text(text, self.secrets)


def resolve_url(explicit: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """--database-url, else DATABASE_URL, else SUPABASE_URL when it holds a Postgres URI
    (it usually holds the https API URL, which is no database URL)."""
    if explicit:
        return explicit
    if environ.get("DATABASE_URL"):
        return environ["DATABASE_URL"]
    supabase = environ.get("SUPABASE_URL", "")
    if connstr.SCHEME.match(supabase.strip()):
        return supabase
    raise UsageError(
        "no database: pass --database-url, or set DATABASE_URL "
        "(the Supabase transaction pooler URI, port 6543)"
    )


def url_source(explicit: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """Where resolve_url found the URL, to name it in an error."""
    if explicit:
        return "--database-url"
    return "DATABASE_URL" if environ.get("DATABASE_URL") else "SUPABASE_URL"


def make_target(url: str, source: str = "--database-url") -> Target:
    """Never quotes a malformed URL: it may be all password."""
    try:
        connstr.check_strict(url)
        info = connstr.parse(url)
    except connstr.ConnStrError as error:
        where = f" at character {error.position}" if error.position else ""
        raise UsageError(f"the connection string in {source} is malformed{where}: {error.reason}") from None
    secrets = tuple(s for s in (info.password,) if s)
    return Target(url.strip(), safe_text(url.strip(), secrets), secrets)


def check_policy(target: Target, pooler_port: int, allowed_hosts: list[str], allow_direct: bool) -> list[str]:
    """Problems with a non-pooler URL: raises UsageError unless --allow-direct,
    in which case the problems come back as warnings."""
    problems = [target.scrub(p) for p in connstr.policy_problems(target.conninfo, pooler_port, allowed_hosts)]
    if problems and not allow_direct:
        raise UsageError(
            f"{target.display} is not the transaction pooler: {'; '.join(problems)}. "
            "Use the pooler URI (port 6543), or pass --allow-direct to override."
        )
    return problems


def is_local(conninfo: str) -> bool:
    """Whether every host of the connection string is loopback or a Unix socket."""
    try:
        endpoints = connstr.parse(conninfo).endpoints
    except connstr.ConnStrError:
        return False
    return bool(endpoints) and all(connstr.is_local_host(e.host) for e in endpoints)


class Database:
    """One autocommit connection that reconnects after the pooler dropped it."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._conn: psycopg.Connection | None = None
        self._side: psycopg.Connection | None = None

    def open_new(self) -> psycopg.Connection:
        """A fresh connection (also used by the lease heartbeat)."""
        try:
            return psycopg.connect(
                self.target.conninfo,
                autocommit=True,
                prepare_threshold=None,
                application_name=APPLICATION_NAME,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except psycopg.Error as error:
            local = is_local(self.target.conninfo)
            raise OperationFailed(connect_failure_message(error, self.target.display, self.target.secrets, local)) from None

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self.open_new()
        return self._conn

    def side_conn(self) -> psycopg.Connection | None:
        """A second connection for watching the first (locks.Watch), or None
        when it cannot be opened: watching is best effort."""
        if self._side is None or self._side.closed or self._side.broken:
            try:
                self._side = self.open_new()
            except OperationFailed:
                self._side = None
        return self._side

    def is_lost(self, error: BaseException) -> bool:
        """Whether an error means the connection is gone (vs. an SQL error)."""
        return isinstance(error, psycopg.OperationalError) and (
            self._conn is None or self._conn.closed or self._conn.broken
        )

    def reconnect(self) -> psycopg.Connection:
        """Drop the dead connection and retry until RECONNECT_SECONDS pass."""
        self.close()
        deadline = time.monotonic() + RECONNECT_SECONDS
        delay = 0.1
        while True:
            try:
                return self.conn
            except OperationFailed:
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    @contextmanager
    def errors_reported(self, doing: str) -> Iterator[None]:
        """Turn a database error outside a migration into a safe OperationFailed."""
        try:
            yield
        except psycopg.Error as error:
            hint = hint_for(error)
            message = f"{doing}: {' '.join(str(error).split())}" + (f"\n  hint: {hint}" if hint else "")
            raise OperationFailed(self.target.scrub(message)) from None

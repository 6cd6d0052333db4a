"""`apply --ephemeral`: the whole life of the migrations on a throwaway server.

start PostgreSQL (+ PgBouncer, transaction mode) -> bootstrap the Supabase
platform objects -> apply everything through the pooler -> verify -> roll
everything back (the schema must be back where it started) -> apply again
(the schema must equal the first apply) -> verify -> tear down, also on
failure or ^C / SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
from contextlib import contextmanager
from typing import Iterator

import psycopg

from mobius_sqlcheck.applier import actions, ephemeral, snapshot
from mobius_sqlcheck.applier.database import Database, make_target
from mobius_sqlcheck.applier.output import Reporter
from mobius_sqlcheck.applier.session import Session, load_migrations
from mobius_sqlcheck.errors import OperationFailed

BOOTSTRAP = os.path.join(os.path.dirname(os.path.dirname(__file__)), "platform", "supabase_bootstrap.sql")


def run(args: argparse.Namespace) -> int:
    config, migration_set = load_migrations(args)
    reporter = Reporter("apply --ephemeral", args.format)
    with _sigterm_as_interrupt(), _servers(reporter, getattr(args, "pg_bindir", None)) as servers:
        session = Session(config, migration_set, Database(make_target(servers.url())), reporter)
        reporter.database = session.db.target.display
        try:
            return actions.reported(session, lambda: _life_cycle(session, servers, args.skip_lint))
        finally:
            session.close()


def _life_cycle(session: Session, servers: ephemeral.Servers, skip_lint: bool) -> int:
    reporter = session.reporter
    bootstrap_platform(servers.url())
    reporter.note("platform objects bootstrapped (roles, auth, storage)")
    with session.db.errors_reported("snapshot"):
        empty = snapshot.take(session.db.conn)
    _phase(reporter, "apply")
    actions.apply_pending(session, skip_lint=skip_lint)
    first = _checked_verify(session)
    if not any(session.migration_set.rollback_for(m) for m in session.migration_set.forwards):
        reporter.note(f"rollback round trip skipped: the {session.migration_set.layout} layout has no rollback files "
                      "here (a Supabase project that keeps them sets rollbacks = \"supabase/rollbacks\")")
        reporter.note("ok: applied and verified")
        return 0
    _phase(reporter, "roll back everything")
    actions.roll_back(session, steps=None, to_version=(-1,))  # all of them: diesel's first version is 0
    _same(session, empty, "after rolling everything back, the schema differs from before the first apply")
    _phase(reporter, "apply again")
    actions.apply_pending(session, skip_lint=True)
    _checked_verify(session)
    _same(session, first, "the re-applied schema differs from the first apply")
    reporter.note("ok: applied, verified, rolled back and re-applied; both schemas are identical")
    return 0


def _checked_verify(session: Session) -> dict[str, list[str]]:
    _phase(session.reporter, "verify")
    if actions.verify(session) != 0:
        raise OperationFailed("verify found differences between the database and the migrations")
    with session.db.errors_reported("snapshot"):
        return snapshot.take(session.db.conn)


def _same(session: Session, expected: dict[str, list[str]], message: str) -> None:
    with session.db.errors_reported("snapshot"):
        now = snapshot.take(session.db.conn)
    lines = snapshot.differences(expected, now)
    if lines:
        raise OperationFailed(message + ":\n  " + "\n  ".join(lines[:40]))


def _phase(reporter: Reporter, name: str) -> None:
    reporter.note(f"== {name}")


def bootstrap_platform(url: str) -> None:
    """Create what Supabase creates before user migrations (kept apart from them)."""
    with open(BOOTSTRAP, encoding="utf-8") as handle:
        sql = handle.read()
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        conn.execute(sql)


@contextmanager
def _servers(reporter: Reporter, bindir: str | None) -> Iterator[ephemeral.Servers]:
    servers = ephemeral.start(with_pooler=True, pool_size=2, bindir=bindir)
    try:
        pooler = (f"PgBouncer (transaction mode) on 127.0.0.1:{servers.pooler_port}" if servers.pooler_port
                  else "no PgBouncer installed: connecting directly")
        reporter.note(f"{ephemeral.server_version(servers.bindir)} from {servers.bindir}")
        reporter.note(f"throwaway PostgreSQL in {servers.root} on 127.0.0.1:{servers.pg_port}; {pooler}")
        yield servers
    finally:
        servers.stop()
        reporter.note("throwaway servers stopped and removed")


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM unwind like ^C, so the servers are torn down."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

"""Real servers for the applier tests: PostgreSQL 15 (initdb in a temp dir, a
free loopback port, run as an unprivileged user when we are root) behind
PgBouncer in transaction mode with default_pool_size = 2, so consecutive
transactions of one client land on different server connections.

PgBouncer asks for a password (scram-sha-256) so the wrong-password test is
real. Each test gets its own database, cloned from a template that already
holds the Supabase platform objects; PgBouncer's `*` entry serves any name.
"""

from __future__ import annotations

import itertools
import os
from typing import Iterator

import psycopg
import pytest

from mobius_sqlcheck import cli
from mobius_sqlcheck.applier import ephemeral
from mobius_sqlcheck.applier.ephemeral import find_pgbouncer
from mobius_sqlcheck.applier.tryout import bootstrap_platform
from tests.applier.helpers import PASSWORD, Db, Result

TEMPLATE = "platform_template"
_names = itertools.count(1)


@pytest.fixture(scope="session")
def servers() -> Iterator[ephemeral.Servers]:
    if find_pgbouncer() is None:
        pytest.fail("PgBouncer is not installed: scripts/test.sh installs it (apt-get install pgbouncer)")
    servers = ephemeral.start(with_pooler=True, pool_size=2, password=PASSWORD)
    try:
        with psycopg.connect(servers.direct_url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        bootstrap_platform(servers.direct_url(TEMPLATE))
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def db(servers: ephemeral.Servers) -> Db:
    name = f"t{next(_names)}_{os.getpid()}"
    with psycopg.connect(servers.direct_url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return Db(name, servers.url(name), servers.direct_url(name), servers)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in-process: run_cli("apply", "--database-url", url, ...)."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run

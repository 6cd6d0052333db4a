"""Throwaway PostgreSQL (+ PgBouncer in transaction mode) on loopback.

Used by `apply --ephemeral` and by the test suite. Both servers refuse to run
as root, so when we are root they run as an unprivileged user (`postgres`)
and their directory is handed to that user. Everything lives in one temporary
directory that `stop()` removes.
"""

from __future__ import annotations

import glob
import os
import pwd
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


def find_pg_bindir() -> str:
    """Where initdb / pg_ctl live: $PG_BINDIR, `pg_config --bindir`, Debian's
    /usr/lib/postgresql/<n>/bin, then PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    if shutil.which("pg_config"):
        result = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(result.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    which = shutil.which("initdb")
    candidates.append(os.path.dirname(which) if which else "")
    for directory in candidates:
        if directory and os.path.isfile(os.path.join(directory, "initdb")):
            return directory
    raise OperationFailed("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql or set PG_BINDIR")


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


def start(with_pooler: bool = True, pool_size: int = 2, password: str | None = None) -> Servers:
    """Start PostgreSQL (and PgBouncer when installed and wanted); the caller
    must call `stop()`, also on failure."""
    root = tempfile.mkdtemp(prefix="mobius-sqlcheck-")
    as_user = _unprivileged_prefix(root)
    pooler = with_pooler and find_pgbouncer() is not None
    servers = Servers(root, find_pg_bindir(), free_port(), free_port() if pooler else None, password, pool_size,
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


def _unprivileged_prefix(root: str) -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        account = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise OperationFailed(f"running as root, and there is no `{SERVER_USER}` user to run PostgreSQL as") from None
    os.chown(root, account.pw_uid, account.pw_gid)
    return ["runuser", "-u", SERVER_USER, "--"]


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

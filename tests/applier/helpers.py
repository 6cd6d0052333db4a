"""Helpers for the applier tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from mobius_sqlcheck.applier import ephemeral

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "migrations"
PASSWORD = "Pw-7f3e9c1a-not-in-output"


@dataclass
class Db:
    name: str
    url: str  # through PgBouncer, with the password
    direct: str  # straight to PostgreSQL, for the tests' own checks
    servers: ephemeral.Servers

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.direct, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def scalar(self, sql: str, params: tuple = ()) -> object:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def history(self) -> list[tuple[str, str]]:
        return self.query("SELECT version, name FROM mobius_sqlcheck.schema_history ORDER BY version, name")

    def exists(self, regclass: str) -> bool:
        return bool(self.scalar("SELECT to_regclass(%s) IS NOT NULL", (regclass,)))


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def spawn(*argv: str) -> subprocess.Popen[str]:
    """The CLI as a separate process (for SIGKILL and concurrency)."""
    return subprocess.Popen(
        [sys.executable, "-m", "mobius_sqlcheck", *argv], cwd=REPO, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def wait_until(predicate, seconds: float = 15.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(step)


def apply_args(db: Db, migrations: Path | str, *extra: str) -> list[str]:
    return ["apply", "--database-url", db.url, "--migrations", str(migrations), *extra]


def write_config(directory: Path, migrations: Path, **settings: object) -> Path:
    """A pyproject.toml with [tool.mobius_sqlcheck] `settings` (strings and ints)."""
    lines = ["[tool.mobius_sqlcheck]", f"migrations = {str(migrations)!r}"]
    lines += [f"{key} = {value!r}" if isinstance(value, str) else f"{key} = {value}" for key, value in settings.items()]
    path = directory / "pyproject.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def active_backends(db: Db, query_start: str) -> int:
    """Backends of this database running a query that starts with `query_start`."""
    return int(db.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND query LIKE %s",
        (db.name, query_start.replace("%", "%%") + "%"),
    ))

"""A migrations directory that cannot be read, or holds no migrations, is an
error (exit 2, the path and the OS error): never "up to date", never every
migration "missing"."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.applier.helpers import Db, apply_args, write_migrations

FILES = {"001_one.sql": "CREATE TABLE one (id int);\n", "002_two.sql": "CREATE TABLE two (id int);\n"}


@contextmanager
def unprivileged() -> Iterator[None]:
    """Permissions bind root only through another effective user id: become
    `postgres` (the fixtures' server user) for the duration, when root."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(pwd.getpwnam("postgres").pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def migrations() -> Iterator[Path]:
    # Not under pytest's tmp_path (mode 700): the unprivileged user must reach it.
    root = Path(tempfile.mkdtemp(prefix="mobius-input-"))
    root.chmod(0o755)
    directory = write_migrations(root / "migrations", FILES)
    directory.chmod(0o755)
    yield directory
    directory.chmod(0o755)
    shutil.rmtree(root)


def _status(run_cli, db: Db, directory: Path):
    return run_cli("status", "--database-url", db.url, "--migrations", str(directory))


@pytest.mark.parametrize("migrated", [False, True], ids=["fresh", "migrated"])
def test_an_unreadable_directory_is_exit_2(db: Db, run_cli, migrations: Path, migrated: bool) -> None:
    assert _status(run_cli, db, migrations).code == 1  # warms up every import before the user changes
    if migrated:
        assert run_cli(*apply_args(db, migrations, "--skip-lint")).code == 0
    migrations.chmod(0)
    with unprivileged():
        apply = run_cli(*apply_args(db, migrations, "--skip-lint"))
        status = _status(run_cli, db, migrations)
    for result in (apply, status):
        assert result.code == 2, result.text
        assert f"cannot read migrations directory {migrations}: Permission denied" in result.err
        assert "up to date" not in result.text and "missing" not in result.text


def test_an_unreadable_file_is_exit_2(db: Db, run_cli, migrations: Path) -> None:
    assert run_cli(*apply_args(db, migrations, "--skip-lint")).code == 0
    (migrations / "002_two.sql").chmod(0)
    with unprivileged():
        result = _status(run_cli, db, migrations)
    assert result.code == 2, result.text
    assert f"{migrations / '002_two.sql'}: cannot read migration: Permission denied" in result.err
    assert "missing" not in result.text


@pytest.mark.parametrize("migrated", [False, True], ids=["fresh", "migrated"])
def test_an_empty_directory_is_exit_2(db: Db, run_cli, migrations: Path, migrated: bool) -> None:
    if migrated:
        assert run_cli(*apply_args(db, migrations, "--skip-lint")).code == 0
    for path in migrations.iterdir():
        path.unlink()
    (migrations / "README.md").write_text("no SQL here\n", encoding="utf-8")
    for result in (run_cli(*apply_args(db, migrations, "--skip-lint")), _status(run_cli, db, migrations)):
        assert result.code == 2, result.text
        assert f"no migration files (NNN_name.sql) in {migrations}" in result.err
        assert "up to date" not in result.text and "missing" not in result.text


def test_missing_is_only_for_a_file_truly_absent(db: Db, run_cli, migrations: Path) -> None:
    assert run_cli(*apply_args(db, migrations, "--skip-lint")).code == 0
    (migrations / "002_two.sql").unlink()
    result = _status(run_cli, db, migrations)
    assert result.code == 1
    assert "missing      002_two.sql" in result.out and "missing      001_one.sql" not in result.out

"""Invalid indexes: a CREATE INDEX CONCURRENTLY cancelled (or failed) half
way leaves the index with indisvalid = false. Such an index is never recorded
as applied: the re-run drops it and rebuilds it, and verify and status
report any invalid index as drift."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from tests.applier.helpers import Db, active_backends, apply_args, spawn, wait_until, write_migrations

DIRECTIVE = "-- mobius-sqlcheck: no-transaction\n"


def _files(unique: bool) -> dict[str, str]:
    kind = "UNIQUE INDEX" if unique else "INDEX"
    return {
        "001_items.sql": "CREATE TABLE items (id int, name text);\n"
                         "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 2000) g;\n",
        "002_index.sql": DIRECTIVE + f"CREATE {kind} CONCURRENTLY IF NOT EXISTS idx_items_name ON items (name);\n",
    }


def _index_valid(db: Db) -> bool | None:
    return db.scalar("SELECT indisvalid AND indisready FROM pg_index WHERE indexrelid = to_regclass('idx_items_name')")


def _recorded(db: Db) -> bool:
    return ("002", "index") in db.history()


@pytest.mark.parametrize("unique", [False, True], ids=["plain", "unique"])
def test_cancelled_build_is_not_recorded_and_the_rerun_rebuilds_it(db: Db, run_cli, tmp_path: Path, unique: bool) -> None:
    migrations = write_migrations(tmp_path / "migrations", _files(unique))
    assert run_cli(*apply_args(db, migrations, "--skip-lint", "--target", "001")).code == 0
    # An open writer makes the build wait after it has created the (invalid) index.
    writer = psycopg.connect(db.direct)
    writer.execute("INSERT INTO items VALUES (0, 'writer')")
    process = spawn(*apply_args(db, migrations, "--skip-lint"))
    wait_until(lambda: active_backends(db, "CREATE") == 1 and _index_valid(db) is False)
    db.query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'CREATE%%'", (db.name,))
    out, err = process.communicate(timeout=60)
    writer.rollback()
    writer.close()
    assert process.returncode == 1, out + err
    assert "002_index.sql:2:1: canceling statement due to user request" in err
    assert _index_valid(db) is False  # what the cancelled build left...
    assert not _recorded(db)  # ...is not recorded as applied

    rerun = spawn(*apply_args(db, migrations, "--skip-lint"))
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, out + err
    assert "index \"idx_items_name\" is invalid (left by an interrupted build): dropping and rebuilding it" in out
    assert _recorded(db) and _index_valid(db) is True
    if unique:
        with pytest.raises(psycopg.errors.UniqueViolation):
            db.query("INSERT INTO items VALUES (-1, 'dup'), (-2, 'dup')")


def test_failed_unique_build_is_a_clear_failure(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", _files(unique=True))
    assert run_cli(*apply_args(db, migrations, "--skip-lint", "--target", "001")).code == 0
    db.query("INSERT INTO items VALUES (-1, 'dup'), (-2, 'dup')")
    result = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert result.code == 1
    assert "002_index.sql:2:1: could not create unique index \"idx_items_name\"" in result.err
    assert not _recorded(db) and _index_valid(db) is False
    # A second run drops the leftover and fails the same way: still never recorded.
    again = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert again.code == 1 and "dropping and rebuilding it" in again.out
    assert not _recorded(db)
    db.query("DELETE FROM items WHERE id = -2")
    fixed = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert fixed.code == 0, fixed.text
    assert _recorded(db) and _index_valid(db) is True


def test_verify_and_status_report_a_hand_made_invalid_index(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", {
        "001_items.sql": "CREATE TABLE items (id int, name text);\n",
    })
    assert run_cli(*apply_args(db, migrations, "--skip-lint")).code == 0
    common = ["--database-url", db.url, "--migrations", str(migrations)]
    assert run_cli("verify", *common).code == 0
    db.query("INSERT INTO items VALUES (1, 'a'), (2, 'a')")
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.query("CREATE UNIQUE INDEX CONCURRENTLY idx_items_by_hand ON items (name)")

    verify = run_cli("verify", *common)
    assert verify.code == 1
    assert "invalid     index public.idx_items_by_hand: on items: left by a failed or cancelled CREATE INDEX CONCURRENTLY" in verify.out
    status = run_cli("status", *common)
    assert status.code == 1
    assert "invalid index public.idx_items_by_hand on items" in status.out
    assert "1 applied, 0 pending, 0 modified, 0 missing, 1 invalid index(es)" in status.out


def test_an_index_being_built_by_someone_else_is_not_dropped(db: Db, run_cli, tmp_path: Path) -> None:
    migrations = write_migrations(tmp_path / "migrations", _files(unique=False))
    assert run_cli(*apply_args(db, migrations, "--skip-lint", "--target", "001")).code == 0
    writer = psycopg.connect(db.direct)
    writer.execute("INSERT INTO items VALUES (0, 'writer')")
    builder = threading.Thread(target=lambda: db.query("CREATE INDEX CONCURRENTLY idx_items_name ON items (name)"))
    builder.start()
    try:
        wait_until(lambda: _index_valid(db) is False)
        result = run_cli(*apply_args(db, migrations, "--skip-lint"))
        assert result.code == 1
        assert "index \"idx_items_name\" is being built right now by backend pid" in result.err
    finally:
        writer.rollback()
        writer.close()
        builder.join()
    assert _index_valid(db) is True and not _recorded(db)

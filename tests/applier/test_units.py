"""The applier's pure parts, without a server: plan states, statement
splitting and position mapping, idempotency, drift comparison, URL choice."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from mobius_sqlcheck.applier import plan
from mobius_sqlcheck.applier.database import check_policy, make_target, resolve_url
from mobius_sqlcheck.applier.history import HistoryRow
from mobius_sqlcheck.applier.script import load_script, policy_problems
from mobius_sqlcheck.applier.verify import IndexShape, SchemaShape, compare
from mobius_sqlcheck.errors import OperationFailed, UsageError
from mobius_sqlcheck.migrations import load_migration_set
from tests.applier.helpers import write_migrations


def _row(version: str, name: str, checksum: str) -> HistoryRow:
    return HistoryRow(version, name, checksum, datetime.now(timezone.utc), 1, "me@host", "0.1.0", "apply")


@pytest.fixture
def migration_dir(tmp_path: Path) -> Path:
    return write_migrations(tmp_path / "migrations", {
        "001_a.sql": "CREATE TABLE a (id int);\n",
        "002_b.sql": "CREATE TABLE b (id int);\n",
        "004_c.sql": "CREATE TABLE c (id int);\n",
        "004_d.sql": "CREATE TABLE d (id int);\n",
        "004_d_rollback.sql": "DROP TABLE IF EXISTS d;\n",
    })


def _entries(directory: Path, rows: list[HistoryRow]) -> list[plan.Entry]:
    return plan.entries(load_migration_set(str(directory)), {r.key: r for r in rows})


def test_plan_states(migration_dir: Path) -> None:
    checksum_a = plan.read_checksum(str(migration_dir / "001_a.sql"))
    rows = [_row("001", "a", checksum_a), _row("004", "c", "stale"), _row("003", "gone", "x")]
    states = [(e.version, e.name, e.state, e.out_of_order) for e in _entries(migration_dir, rows)]
    assert states == [
        ("001", "a", plan.APPLIED, False),
        ("002", "b", plan.PENDING, True),  # sorts before applied 004_c
        ("003", "gone", plan.MISSING, False),
        ("004", "c", plan.MODIFIED, False),
        ("004", "d", plan.PENDING, False),
    ]


def test_apply_plan_refuses_disagreement_and_honours_target(migration_dir: Path) -> None:
    checksum_a = plan.read_checksum(str(migration_dir / "001_a.sql"))
    with pytest.raises(OperationFailed, match="004_c.sql was modified"):
        plan.to_apply(_entries(migration_dir, [_row("004", "c", "stale")]))
    todo = plan.to_apply(_entries(migration_dir, [_row("001", "a", checksum_a)]), target=(2,))
    assert [e.name for e in todo] == ["b"]


def test_rollback_plan_newest_first(migration_dir: Path) -> None:
    rows = [_row(v, n, plan.read_checksum(str(migration_dir / f"{v}_{n}.sql")))
            for v, n in (("001", "a"), ("002", "b"), ("004", "c"), ("004", "d"))]
    items = _entries(migration_dir, rows)
    assert [e.name for e in plan.to_roll_back(items, steps=2, to_version=None)] == ["d", "c"]
    assert [e.name for e in plan.to_roll_back(items, steps=None, to_version=(1,))] == ["d", "c", "b"]
    assert [e.name for e in plan.to_roll_back(items, steps=None, to_version=None)] == ["d"]


def test_parse_version() -> None:
    assert plan.parse_version("004", "--to") == (4,)
    assert plan.parse_version("2024-06-11-120000", "--to") == (20240611120000,)  # diesel
    assert plan.parse_version("1.2", "--to") == plan.parse_version("1_2", "--to") == (1, 2)  # Flyway
    assert (1, 10) > plan.parse_version("1.9", "--to") > (1,) and plan.parse_version("1.1", "--to") < (2,)
    for bad in ("1..2", "1.", ".1"):
        with pytest.raises(UsageError):
            plan.parse_version(bad, "--to")
    with pytest.raises(UsageError):
        plan.parse_version("latest", "--to")


def test_script_pieces_and_positions(tmp_path: Path) -> None:
    path = tmp_path / "001_x.sql"
    path.write_bytes("\ufeff-- é\nCREATE TABLE x (id int);\n\n  SELECT 'ü', nope FROM x;\n".encode("utf-8"))
    script = load_script(str(path))
    assert [p.text for p in script.pieces] == ["CREATE TABLE x (id int)", "SELECT 'ü', nope FROM x"]
    second = script.pieces[1]
    position = script.position(second, second.text.index("nope"))
    assert (position.line, position.column) == (4, 15)
    assert len(script.checksum) == 64


def test_unparsable_file_is_sent_whole(tmp_path: Path) -> None:
    path = tmp_path / "001_x.sql"
    path.write_text("CREATE TABLE x (id int);\nCREAT TABLE y;\n", encoding="utf-8")
    script = load_script(str(path))
    assert len(script.pieces) == 1 and script.pieces[0].start == 0


def test_idempotency_and_transaction_control(tmp_path: Path) -> None:
    path = tmp_path / "001_x.sql"
    path.write_text(
        "-- mobius-sqlcheck: no-transaction\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS i1 ON t (a);\n"
        "CREATE INDEX CONCURRENTLY i2 ON t (a);\n"
        "DROP INDEX CONCURRENTLY IF EXISTS i3;\n"
        "DROP INDEX CONCURRENTLY i4;\n"
        "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'ok';\n"
        "VACUUM t;\n"
        "UPDATE t SET a = 1;\n"
        "COMMIT;\n",
        encoding="utf-8",
    )
    script = load_script(str(path))
    assert script.no_transaction
    problems = policy_problems(script)
    # ALTER TYPE ... ADD VALUE runs in a transaction since PostgreSQL 12: it belongs in a normal file.
    assert [p.split(": ", 1)[0].rsplit(":", 2)[1:] for p in problems] == [
        ["3", "1"], ["5", "1"], ["6", "1"], ["8", "1"], ["9", "1"]]
    assert "MSC504 CREATE INDEX CONCURRENTLY without IF NOT EXISTS" in problems[0]
    assert "MSC504 DROP INDEX CONCURRENTLY without IF EXISTS" in problems[1]
    assert "MSC504 UPDATE T in a no-transaction file" in problems[3]  # a SELECT would be fine
    assert "MSC503 COMMIT" in problems[4]


def test_compare_shapes() -> None:
    expected = SchemaShape(
        tables={"brands": {"id", "name"}, "v": None},
        indexes={"idx_a": IndexShape("brands", False, True)},
        triggers={("brands", "brands_touch_trigger")},
        buckets={"b": {"id": "b", "name": "b", "public": False, "file_size_limit": 10, "allowed_mime_types": ["a", "b"]}},
    )
    live = SchemaShape(
        tables={"brands": {"id", "extra"}, "v": None, "stray": set()},
        indexes={"idx_a": IndexShape("brands", True, True)},
        triggers=set(),
        buckets={"b": {"name": "b", "public": False, "file_size_limit": 10, "allowed_mime_types": ["b", "a"]},
                 "x": {"name": "x"}},
    )
    rendered = [d.render() for d in compare(expected, live)]
    assert rendered == [
        "unexpected  table stray",
        "missing     column brands.name",
        "unexpected  column brands.extra",
        "mismatched  index idx_a: expected on brands (partial), found on brands (unique, partial)",
        "missing     trigger brands_touch_trigger on brands",
        "unexpected  storage bucket x",
    ]  # MIME types compare as a set


def test_resolve_url(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"DATABASE_URL": "postgresql://a@h:6543/d", "SUPABASE_URL": "postgres://b@h:6543/d"}
    assert resolve_url("postgresql://x@h:6543/d", env) == "postgresql://x@h:6543/d"
    assert resolve_url(None, env) == env["DATABASE_URL"]
    assert resolve_url(None, {"SUPABASE_URL": env["SUPABASE_URL"]}) == env["SUPABASE_URL"]
    with pytest.raises(UsageError, match="no database"):
        resolve_url(None, {"SUPABASE_URL": "https://ref.supabase.co"})


def test_policy_and_redaction() -> None:
    target = make_target("postgresql://postgres:hunter2@db.ref.supabase.co:5432/postgres")
    assert "hunter2" not in target.display
    with pytest.raises(UsageError) as refused:
        check_policy(target, 6543, ["localhost"], allow_direct=False)
    assert "hunter2" not in str(refused.value) and "--allow-direct" in str(refused.value)
    assert len(check_policy(target, 6543, ["localhost"], allow_direct=True)) == 2
    with pytest.raises(UsageError, match="is malformed"):
        make_target("host=h port=1,2,3 password=hunter2")


def test_a_named_pipe_among_the_migrations_is_refused_not_waited_on(migration_dir: Path) -> None:
    import os

    os.mkfifo(migration_dir / "003_pipe.sql")
    with pytest.raises(UsageError, match="003_pipe.sql: cannot read migration: not a regular file"):
        _entries(migration_dir, [])


def test_policy_accepts_a_create_made_rerunnable_by_an_earlier_drop(tmp_path: Path) -> None:
    """Lint (MSC504) passes this file; apply used to refuse it."""
    path = tmp_path / "006_rebuild.sql"
    path.write_text("-- mobius-sqlcheck: no-transaction\n"
                    "DROP INDEX CONCURRENTLY IF EXISTS public.idx_assets_status;\n"
                    "CREATE INDEX CONCURRENTLY idx_assets_status ON public.assets (status);\n", encoding="utf-8")
    assert policy_problems(load_script(str(path))) == []


def test_policy_refuses_commit_in_a_do_block(tmp_path: Path) -> None:
    """MSC503 reports it; apply used to run it (and PostgreSQL raised)."""
    path = tmp_path / "007_do.sql"
    path.write_text("DO $$ BEGIN INSERT INTO t VALUES (1); COMMIT; END $$;\n", encoding="utf-8")
    [problem] = policy_problems(load_script(str(path)))
    assert "007_do.sql:1:1: MSC503 COMMIT inside a DO block: PostgreSQL raises 'invalid transaction termination'" \
        in problem


@pytest.mark.parametrize(("text", "seconds"), [("3s", 3.0), ("500ms", 0.5), ("15min", 900.0), ("1h", 3600.0),
                                                ("250", 0.25), (" 2.5 s ", 2.5), ("1d", 86400.0)])
def test_durations(text: str, seconds: float) -> None:
    from mobius_sqlcheck.config import parse_duration

    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("table", "message"), [
    ({"lock_retries": -1}, "lock_retries must be between 0 and 100"),
    ({"lock_retries": "3"}, "lock_retries must be an integer"),
    ({"lease_wait_timeout": "forever"}, "lease_wait_timeout: 'forever' is not a duration"),
    ({"statement_timeout": "1 week"}, "statement_timeout: '1 week' is not a duration"),
])
def test_applier_settings_are_validated(table: dict, message: str) -> None:
    from mobius_sqlcheck.config import config_from_table

    with pytest.raises(UsageError, match=message):
        config_from_table(table)

"""The applier follows the layout: `apply --ephemeral` on a Supabase CLI
project without rollback files, on dbmate (rolled back through its down
sections), on diesel and on Flyway (a repeatable R__ after the versioned
ones), against a real PostgreSQL behind a real PgBouncer."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.applier.test_ephemeral import _assert_torn_down
from tests.layouts.test_layouts import FIXTURES, MIGRATIONS_DIR


def _fixture(layout: str, tmp_path) -> str:
    project = tmp_path / layout
    shutil.copytree(os.path.join(FIXTURES, layout), project)
    return str(project / MIGRATIONS_DIR[layout])


def test_supabase_without_rollbacks_applies_verifies_and_skips_the_round_trip(run_cli, tmp_path) -> None:
    result = run_cli("apply", "--ephemeral", "--skip-lint", "--migrations", _fixture("supabase", tmp_path))
    assert result.code == 0, result.text
    assert "== apply" in result.out and "== verify" in result.out
    assert "rollback round trip skipped: the supabase layout has no rollback files" in result.out
    assert "== roll back everything" not in result.out
    assert result.out.count("applied") >= 3
    _assert_torn_down(result.out)


@pytest.mark.parametrize("layout", ["dbmate", "diesel"])
def test_rolls_back_through_the_layouts_down_sql(layout: str, run_cli, tmp_path) -> None:
    result = run_cli("apply", "--ephemeral", "--skip-lint", "--migrations", _fixture(layout, tmp_path))
    assert result.code == 0, result.text
    for phase in ("== apply", "== verify", "== roll back everything", "== apply again"):
        assert phase in result.out
    assert "both schemas are identical" in result.out
    _assert_torn_down(result.out)


def test_flyway_repeatable_runs_after_the_versioned_ones(run_cli, tmp_path) -> None:
    result = run_cli("apply", "--ephemeral", "--skip-lint", "--format", "json",
                     "--migrations", _fixture("flyway", tmp_path))
    assert result.code == 0, result.text
    assert "rollback round trip skipped" in result.out
    import json

    document = json.loads(result.out)
    applied = [m["file"] for m in document["migrations"] if m["action"] == "applied"]
    assert applied[-1] == "R__recent_notes_view.sql", document["migrations"]


def test_flyway_repeatable_is_applied_again_when_it_changes(db, run_cli, tmp_path) -> None:
    from tests.applier.helpers import apply_args

    migrations = _fixture("flyway", tmp_path)
    first = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert first.code == 0, first.text
    unchanged = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert "nothing to apply" in unchanged.out, unchanged.text
    with open(os.path.join(migrations, "R__recent_notes_view.sql"), "w", encoding="utf-8") as handle:
        handle.write("create or replace view recent_notes as\n    select id, profile_id, body, created_at from notes\n"
                     "    where created_at > now() - interval '30 days';\n")
    again = run_cli(*apply_args(db, migrations, "--skip-lint"))
    assert again.code == 0, again.text
    assert "R__recent_notes_view.sql" in again.out and "V1__create_profiles.sql" not in again.out
    columns = db.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'recent_notes' "
                       "ORDER BY ordinal_position")
    assert [c for (c,) in columns] == ["id", "profile_id", "body", "created_at"]
    assert db.scalar("SELECT count(*) FROM mobius_sqlcheck.schema_history WHERE version = ''") == 1


def test_dbmate_status_and_rollback_use_the_sections(db, run_cli, tmp_path) -> None:
    from tests.applier.helpers import apply_args

    migrations = _fixture("dbmate", tmp_path)
    assert run_cli(*apply_args(db, migrations, "--skip-lint")).code == 0
    assert db.exists("public.profiles") and db.exists("public.notes")
    status = run_cli("status", "--database-url", db.url, "--migrations", migrations)
    assert status.code == 0, status.text
    assert status.out.count("applied") >= 4
    back = run_cli("rollback", "--database-url", db.url, "--migrations", migrations, "--steps", "2")
    assert back.code == 0, back.text
    assert "20240613101500_add_display_name.sql (down)" in back.out
    assert not db.scalar("SELECT count(*) FROM information_schema.columns WHERE column_name = 'display_name'")
    assert db.exists("public.notes")

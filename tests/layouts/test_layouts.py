"""Each layout's fixture (written from the tools' documented conventions) is
detected, and listed as the tool itself would apply it."""

from __future__ import annotations

import os
import shutil

import pytest

from mobius_sqlcheck.errors import UsageError
from mobius_sqlcheck.layouts import (
    AUTO,
    Options,
    detect,
    find_migrations_directory,
    layout_ids,
    list_units,
    resolve,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
# layout id -> its migrations directory inside the fixture project
MIGRATIONS_DIR = {
    "mobius": "migrations",
    "supabase": "supabase/migrations",
    "golang-migrate": "migrations",
    "dbmate": "db/migrations",
    "diesel": "migrations",
    "flyway": "db/migration",
    "prisma": "prisma/migrations",
}


def fixture_dir(layout: str) -> str:
    return os.path.join(FIXTURES, layout, MIGRATIONS_DIR[layout])


def test_every_layout_has_a_fixture() -> None:
    assert sorted(layout_ids()) == sorted(MIGRATIONS_DIR)


@pytest.mark.parametrize("layout", sorted(MIGRATIONS_DIR))
def test_fixture_is_detected(layout: str) -> None:
    assert detect(fixture_dir(layout)).layout == layout


@pytest.mark.parametrize("layout", sorted(MIGRATIONS_DIR))
def test_migrations_directory_is_found_from_the_project_root(layout: str) -> None:
    root = os.path.join(FIXTURES, layout)
    found = find_migrations_directory(root)
    assert os.path.normpath(found) == os.path.normpath(fixture_dir(layout))


def test_no_migrations_directory_says_where_it_looked(tmp_path) -> None:
    with pytest.raises(UsageError) as error:
        find_migrations_directory(str(tmp_path))
    message = str(error.value)
    assert "supabase/migrations" in message and "db/migrations" in message and "migrations =" in message


def test_supabase_config_puts_supabase_migrations_first(tmp_path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    (tmp_path / "supabase" / "config.toml").write_text('project_id = "x"\n')
    assert find_migrations_directory(str(tmp_path)).endswith(os.path.join("supabase", "migrations"))


def names(listing) -> list[str]:
    return [unit.display for unit in listing.units]


def test_mobius_units() -> None:
    listing = list_units(fixture_dir("mobius"))
    assert listing.layout == "mobius" and listing.has_rollbacks
    assert names(listing) == ["001_create_profiles.sql", "002_create_notes.sql", "003_add_display_name.sql",
                              "004_index_notes_created_at.sql"]
    assert all(unit.rollback is not None and unit.rollback.path.endswith("_rollback.sql") for unit in listing.units)
    assert [unit.in_transaction for unit in listing.units] == [True, True, True, False]


def test_supabase_units_have_no_rollbacks() -> None:
    listing = list_units(fixture_dir("supabase"))
    assert listing.layout == "supabase" and not listing.has_rollbacks
    assert [unit.version for unit in listing.units] == ["20240611120000", "20240612093000", "20240613101500"]
    assert all(unit.rollback is None for unit in listing.units)


def test_supabase_skips_what_the_cli_skips(tmp_path) -> None:
    directory = tmp_path / "supabase" / "migrations"
    directory.mkdir(parents=True)
    (directory / "20240611120000_init.sql").write_text("select 1;\n")
    (directory / "init-schema.sql").write_text("select 1;\n")
    listing = list_units(str(directory))
    assert names(listing) == ["20240611120000_init.sql"]
    assert [os.path.basename(i.path) for i in listing.ignored] == ["init-schema.sql"]
    assert "Supabase CLI skips" in listing.ignored[0].reason


def test_supabase_rollbacks_from_their_own_directory(tmp_path) -> None:
    directory = tmp_path / "supabase" / "migrations"
    rollbacks = tmp_path / "supabase" / "rollbacks"
    directory.mkdir(parents=True)
    rollbacks.mkdir()
    (directory / "20240611120000_init.sql").write_text("create table t (id int);\n")
    (rollbacks / "20240611120000_init.sql").write_text("drop table if exists t;\n")
    listing = list_units(str(directory), options=Options(rollbacks=str(rollbacks)))
    assert listing.has_rollbacks
    assert listing.units[0].rollback.path == str(rollbacks / "20240611120000_init.sql")


def test_golang_migrate_pairs_up_and_down_and_skips_other_dialects() -> None:
    listing = list_units(fixture_dir("golang-migrate"))
    assert listing.layout == "golang-migrate"
    assert names(listing) == ["000001_create_profiles.up.sql", "000002_create_notes.up.sql",
                              "000003_add_display_name.postgres.up.sql"]
    assert [os.path.basename(u.rollback.path) for u in listing.units] == [
        "000001_create_profiles.down.sql", "000002_create_notes.down.sql",
        "000003_add_display_name.postgres.down.sql"]
    assert sorted(os.path.basename(p) for p in listing.dialect_skipped) == [
        "000003_add_display_name.mysql.down.sql", "000003_add_display_name.mysql.up.sql",
        "000003_add_display_name.sqlite3.down.sql", "000003_add_display_name.sqlite3.up.sql"]
    assert [unit.version for unit in listing.units] == ["000001", "000002", "000003"]


def test_golang_migrate_postgres_variant_wins_and_stray_file_is_ignored(tmp_path) -> None:
    (tmp_path / "1_init.up.sql").write_text("select 1;\n")
    (tmp_path / "1_init.postgres.up.sql").write_text("select 2;\n")
    (tmp_path / "2_more.up.sql").write_text("select 3;\n")
    (tmp_path / "seed.sql").write_text("select 4;\n")
    listing = list_units(str(tmp_path))
    assert names(listing) == ["1_init.postgres.up.sql", "2_more.up.sql"]
    assert [os.path.basename(p) for p in listing.dialect_skipped] == ["1_init.up.sql"]
    assert [os.path.basename(i.path) for i in listing.ignored] == ["seed.sql"]
    assert ".up.sql" in listing.ignored[0].reason


def test_golang_migrate_orders_versions_numerically(tmp_path) -> None:
    for version in ("10", "9", "100"):
        (tmp_path / f"{version}_m.up.sql").write_text("select 1;\n")
    assert [u.version for u in list_units(str(tmp_path)).units] == ["9", "10", "100"]


def test_dbmate_sections_keep_file_offsets() -> None:
    listing = list_units(fixture_dir("dbmate"))
    assert listing.layout == "dbmate"
    unit = listing.units[2]
    assert unit.display == "20240613101500_add_display_name.sql"
    data = open(unit.forward.path, "rb").read()
    forward = data[unit.forward.start:unit.forward.end]
    rollback = data[unit.rollback.start:]
    assert b"add column display_name" in forward and b"migrate:" not in forward
    assert rollback.strip() == b"alter table if exists profiles drop column if exists display_name;"
    assert unit.forward.path == unit.rollback.path


def test_dbmate_transaction_false_marker() -> None:
    listing = list_units(fixture_dir("dbmate"))
    assert [unit.in_transaction for unit in listing.units] == [True, True, True, False]
    assert [unit.rollback_in_transaction for unit in listing.units] == [True, True, True, False]


def test_dbmate_file_without_up_marker_is_ignored(tmp_path) -> None:
    (tmp_path / "20240101000000_a.sql").write_text("-- migrate:up\nselect 1;\n-- migrate:down\n")
    (tmp_path / "20240102000000_b.sql").write_text("-- migrate:up\nselect 1;\n")
    (tmp_path / "20240103000000_c.sql").write_text("select 1;\n")
    listing = list_units(str(tmp_path), "dbmate")
    assert names(listing) == ["20240101000000_a.sql", "20240102000000_b.sql"]
    assert listing.units[1].rollback is None
    assert [os.path.basename(i.path) for i in listing.ignored] == ["20240103000000_c.sql"]


def test_diesel_directories_and_metadata() -> None:
    listing = list_units(fixture_dir("diesel"))
    assert listing.layout == "diesel"
    assert names(listing) == ["00000000000000_diesel_initial_setup/up.sql", "2024-06-11-120000_create_profiles/up.sql",
                              "2024-06-12-093000_create_notes/up.sql", "2024-06-13-101500_add_display_name/up.sql",
                              "2024-06-14-080000_index_notes_created_at/up.sql"]
    assert all(u.rollback.path.endswith(os.path.join(u.display.split("/")[0], "down.sql")) for u in listing.units)
    assert [u.in_transaction for u in listing.units] == [True, True, True, True, False]
    assert listing.units[1].version == "2024-06-11-120000"


def test_flyway_versions_repeatables_and_script_config() -> None:
    listing = list_units(fixture_dir("flyway"))
    assert listing.layout == "flyway" and not listing.has_rollbacks
    assert names(listing) == ["V1__create_profiles.sql", "V1_1__create_notes.sql", "V2__add_display_name.sql",
                              "V3__index_notes_created_at.sql", "R__recent_notes_view.sql"]
    assert [u.version for u in listing.units] == ["1", "1.1", "2", "3", ""]
    assert [u.in_transaction for u in listing.units] == [True, True, True, False, True]
    assert [u.repeatable for u in listing.units] == [False, False, False, False, True]


def test_flyway_versions_compare_part_by_part(tmp_path) -> None:
    for name in ("V1_10__c.sql", "V1_9__b.sql", "V1__a.sql", "U1_9__b.sql", "notes.sql"):
        (tmp_path / name).write_text("select 1;\n")
    listing = list_units(str(tmp_path))
    assert [u.version for u in listing.units] == ["1", "1.9", "1.10"]
    assert listing.has_rollbacks  # an undo file exists
    assert os.path.basename(listing.units[1].rollback.path) == "U1_9__b.sql"
    assert [os.path.basename(i.path) for i in listing.ignored] == ["notes.sql"]


def test_prisma_units() -> None:
    listing = list_units(fixture_dir("prisma"))
    assert listing.layout == "prisma" and not listing.has_rollbacks
    assert names(listing) == ["20240611120000_init/migration.sql", "20240612093000_notes/migration.sql",
                              "20240613101500_add_display_name/migration.sql"]


def test_unrecognized_directory_lists_every_sql_file_as_ignored(tmp_path) -> None:
    (tmp_path / "schema.sql").write_text("create table t (id int);\n")
    (tmp_path / "seed.sql").write_text("insert into t values (1);\n")
    assert detect(str(tmp_path)).layout is None
    listing = list_units(str(tmp_path))
    assert listing.units == [] and len(listing.ignored) == 2
    assert "no migration layout recognizes" in listing.ignored[0].reason


def test_ambiguous_directory_names_candidates_and_the_key(tmp_path) -> None:
    (tmp_path / "1_a.up.sql").write_text("select 1;\n")
    (tmp_path / "V2__b.sql").write_text("select 1;\n")
    with pytest.raises(UsageError) as error:
        resolve(str(tmp_path), AUTO)
    message = str(error.value)
    assert "golang-migrate" in message and "flyway" in message and "layout =" in message


def test_configured_layout_settles_it(tmp_path) -> None:
    (tmp_path / "1_a.up.sql").write_text("select 1;\n")
    (tmp_path / "V2__b.sql").write_text("select 1;\n")
    listing = list_units(str(tmp_path), "flyway")
    assert names(listing) == ["V2__b.sql"]
    assert [os.path.basename(i.path) for i in listing.ignored] == ["1_a.up.sql"]


def test_unknown_layout_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(UsageError, match="unknown layout 'liquibase'"):
        list_units(str(tmp_path), "liquibase")


def test_bundled_migrations_are_mobius() -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    assert detect(os.path.join(root, "migrations")).layout == "mobius"


def test_a_stray_other_layout_file_does_not_flip_detection(tmp_path) -> None:
    source = fixture_dir("mobius")
    target = tmp_path / "migrations"
    shutil.copytree(source, target)
    (target / "005_extra.up.sql").write_text("select 1;\n")
    assert detect(str(target)).layout == "mobius"


def test_supabase_file_of_concurrent_indexes_runs_outside_the_batch(tmp_path) -> None:
    directory = tmp_path / "supabase" / "migrations"
    directory.mkdir(parents=True)
    (directory / "20240611120000_init.sql").write_text("create table t (id int primary key, v int);\n")
    (directory / "20240612120000_index.sql").write_text(
        "-- built without blocking writes\ncreate index concurrently if not exists t_v_idx on t (v);\n"
        "drop index concurrently if exists t_old_idx;\n")
    (directory / "20240613120000_mixed.sql").write_text(
        "create index concurrently t_id_v_idx on t (id, v);\nalter table t add column w int;\n")
    assert [u.in_transaction for u in list_units(str(directory)).units] == [True, False, True]


def test_golang_migrate_runs_a_lone_concurrent_index_build_outside_a_transaction(tmp_path) -> None:
    """No marker: a file of one such statement is one query, outside any transaction block."""
    (tmp_path / "000001_t.up.sql").write_text("create table t (a int);\n")
    (tmp_path / "000002_i.up.sql").write_text("-- why\ncreate index concurrently if not exists t_a on t (a);\n")
    (tmp_path / "000002_i.down.sql").write_text("drop index concurrently if exists t_a;\n")
    (tmp_path / "000003_two.up.sql").write_text("create index concurrently i1 on t (a);\nselect 1;\n")
    listing = list_units(str(tmp_path), "golang-migrate")
    assert [unit.in_transaction for unit in listing.units] == [True, False, True]
    assert [unit.rollback_in_transaction for unit in listing.units] == [True, False, True]

"""Linting each layout's fixture: detected, no finding that is an artefact of
the layout, and the semantic rules fire at the right line of the right file."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from mobius_sqlcheck.cli import main
from tests.applier.helpers import write_migrations
from tests.layouts.test_layouts import FIXTURES, MIGRATIONS_DIR

# Rules about names, pairing and rollbacks: in a fixture that follows its
# tool's conventions, any of them would be an artefact of the layout.
LAYOUT_RULES = {"MSC101", "MSC102", "MSC103", "MSC106", "MSC108", "MSC110", "MSC401", "MSC402", "MSC403",
                "MSC404", "MSC504"}
UNSAFE_MARK = "-- unsafe: MSC301"
DBMATE_ACCOUNTS_UP = ("-- migrate:up\ncreate table accounts (id bigint primary key);\n"
                      "alter table accounts enable row level security;\n")


def lint_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["lint", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def copy_fixture(layout: str, tmp_path) -> str:
    target = tmp_path / layout
    shutil.copytree(os.path.join(FIXTURES, layout), target)
    return str(target)


def unsafe_line(project: str) -> tuple[str, int]:
    """The file and line the fixture marks as its unsafe ALTER."""
    for root, _, files in os.walk(project):
        for name in files:
            path = os.path.join(root, name)
            if not name.endswith(".sql"):
                continue
            for number, line in enumerate(open(path, encoding="utf-8"), start=1):
                if UNSAFE_MARK in line:
                    return os.path.relpath(path, project), number
    raise AssertionError("fixture without its unsafe ALTER")


@pytest.mark.parametrize("layout", sorted(MIGRATIONS_DIR))
def test_fixture_lints_without_layout_artefacts(layout: str, tmp_path, capsys, monkeypatch) -> None:
    project = copy_fixture(layout, tmp_path)
    monkeypatch.chdir(project)
    code, document = lint_json(capsys)  # no path: the migrations directory is found
    assert document["layout"] == layout
    artefacts = [d for d in document["diagnostics"] if d["rule"] in LAYOUT_RULES]
    assert artefacts == []
    path, line = unsafe_line(project)
    msc301 = [(d["path"], d["line"]) for d in document["diagnostics"] if d["rule"] == "MSC301"]
    assert msc301 == [(path, line)]
    assert code == 1  # MSC301 is an error


@pytest.mark.parametrize("layout", sorted(MIGRATIONS_DIR))
def test_the_layout_is_named_in_the_text_summary(layout: str, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(copy_fixture(layout, tmp_path))
    main(["lint"])
    assert f"({layout} layout" in capsys.readouterr().out.splitlines()[-1]


def test_golang_migrate_counts_skipped_dialect_variants(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(copy_fixture("golang-migrate", tmp_path))
    _, document = lint_json(capsys)
    assert document["summary"]["dialect_variants_skipped"] == 4


def test_down_file_drop_is_not_a_forward_finding(tmp_path, capsys) -> None:
    """golang-migrate: the .down.sql's DROP TABLE was replayed as a forward
    migration (MSC305), and the table lost its MSC601."""
    (tmp_path / "supabase").mkdir()
    (tmp_path / "supabase" / "config.toml").write_text('project_id = "billing"\n')  # a Supabase project: MSC601 on
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "000001_create_accounts.up.sql").write_text("create table accounts (id bigint primary key);\n")
    (directory / "000001_create_accounts.down.sql").write_text("drop table if exists accounts;\n")
    (directory / "000002_create_invoices.up.sql").write_text("create table invoices (id bigint primary key);\n")
    (directory / "000002_create_invoices.down.sql").write_text("drop table if exists invoices;\n")
    _, document = lint_json(capsys, str(directory))
    rules = sorted((os.path.basename(d["path"]), d["rule"]) for d in document["diagnostics"])
    assert ("000001_create_accounts.down.sql", "MSC305") not in rules
    assert rules == [("000001_create_accounts.up.sql", "MSC601"), ("000002_create_invoices.up.sql", "MSC601")]


def test_dbmate_down_section_is_a_rollback(tmp_path, capsys) -> None:
    directory = write_migrations(tmp_path / "db" / "migrations", {
        "20240101000000_accounts.sql": f"{DBMATE_ACCOUNTS_UP}\n-- migrate:down\ndrop table accounts;\n"})
    _, document = lint_json(capsys, str(directory))
    found = [(d["rule"], d["line"]) for d in document["diagnostics"]]
    # The down section's DROP without IF EXISTS is a rollback finding, at its real line.
    assert found == [("MSC403", 6)]


def test_dbmate_up_section_without_transaction_false_needs_it(tmp_path, capsys) -> None:
    directory = write_migrations(tmp_path / "db" / "migrations", {
        "20240101000000_accounts.sql": f"{DBMATE_ACCOUNTS_UP}-- migrate:down\ndrop table if exists accounts;\n",
        "20240102000000_index.sql": "-- migrate:up\ncreate index concurrently idx_accounts_id on accounts (id);\n"
                                    "-- migrate:down\ndrop index if exists idx_accounts_id;\n"})
    _, document = lint_json(capsys, str(directory))
    # The down section's plain DROP INDEX is MSC307, as in a mobius rollback file.
    assert [(d["rule"], d["line"]) for d in document["diagnostics"]] == [("MSC504", 2), ("MSC307", 4)]
    # The hint speaks dbmate's way, not our applier's marker.
    assert "`-- migrate:up` line says `transaction:false`" in document["diagnostics"][0]["hint"]
    assert "mobius-sqlcheck: no-transaction" not in document["diagnostics"][0]["hint"]


def test_unrecognized_directory_is_never_no_problems(tmp_path, capsys) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "schema.sql").write_text("create table t (id int);\n")
    (directory / "seed.sql").write_text("insert into t values (1);\n")
    code, document = lint_json(capsys, str(directory))
    rules = sorted((os.path.basename(d["path"]), d["rule"]) for d in document["diagnostics"])
    assert rules == [("schema.sql", "MSC110"), ("seed.sql", "MSC110")]
    assert "no migration layout recognizes" in document["diagnostics"][0]["message"]
    assert document["layout"] == "unknown"


def test_supabase_file_the_cli_skips_is_msc110(tmp_path, capsys) -> None:
    directory = tmp_path / "supabase" / "migrations"
    directory.mkdir(parents=True)
    (directory / "20240101000000_init.sql").write_text(
        "create table t (id int primary key);\nalter table t enable row level security;\n")
    (directory / "add-notes.sql").write_text("create table notes (id int);\n")
    _, document = lint_json(capsys, str(directory))
    assert [(os.path.basename(d["path"]), d["rule"]) for d in document["diagnostics"]] == [
        ("add-notes.sql", "MSC110")]


def test_golang_migrate_file_without_direction_is_msc110(tmp_path, capsys) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(os.path.join(FIXTURES, "golang-migrate", "migrations"), directory)
    (directory / "000004_backfill.sql").write_text("update profiles set display_name = username;\n")
    _, document = lint_json(capsys, str(directory))
    assert ("000004_backfill.sql", "MSC110") in [(os.path.basename(d["path"]), d["rule"])
                                                 for d in document["diagnostics"]]


def test_one_changed_file_is_linted_in_its_layout(tmp_path, capsys) -> None:
    """The pre-commit hook passes only the changed file: its layout is still found."""
    project = copy_fixture("diesel", tmp_path)
    path, line = unsafe_line(project)
    _, document = lint_json(capsys, os.path.join(project, path))
    assert [(d["rule"], d["line"]) for d in document["diagnostics"]] == [("MSC301", line)]
    assert document["layout"] == "diesel"


def test_missing_rollback_speaks_the_layouts_names(tmp_path, capsys) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "000001_accounts.up.sql").write_text(
        "create table accounts (id bigint primary key);\nalter table accounts enable row level security;\n")
    _, document = lint_json(capsys, str(directory))
    [finding] = document["diagnostics"]
    assert finding["message"] == "no down file 000001_accounts.down.sql for this migration"


def test_supabase_require_rollback(tmp_path, capsys, monkeypatch) -> None:
    project = copy_fixture("supabase", tmp_path)
    with open(os.path.join(project, "mobius-sqlcheck.toml"), "w") as handle:
        handle.write("require_rollback = true\n")
    monkeypatch.chdir(project)
    _, document = lint_json(capsys)
    assert sum(1 for d in document["diagnostics"] if d["rule"] == "MSC401") == 3


def test_no_migrations_directory_exits_2_saying_where_it_looked(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["lint"]) == 2
    error = capsys.readouterr().err
    assert "supabase/migrations" in error and "migrations =" in error


def test_mobius_sqlcheck_toml_top_level_keys(tmp_path, capsys, monkeypatch) -> None:
    project = copy_fixture("mobius", tmp_path)
    with open(os.path.join(project, "mobius-sqlcheck.toml"), "w") as handle:
        handle.write('ignore = ["MSC301"]\n')
    nested = os.path.join(project, "migrations")
    monkeypatch.chdir(nested)  # found upwards
    _, document = lint_json(capsys, ".")
    assert "MSC301" not in {d["rule"] for d in document["diagnostics"]}


def test_mobius_sqlcheck_toml_unknown_key_names_file_and_key(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / ".mobius-sqlcheck.toml").write_text('layot = "dbmate"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "."]) == 2
    error = capsys.readouterr().err
    assert ".mobius-sqlcheck.toml" in error and "unknown key layot" in error


def test_bad_layout_value_exits_2(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "mobius-sqlcheck.toml").write_text('layout = "liquibase"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "."]) == 2
    assert "unknown layout 'liquibase'" in capsys.readouterr().err


def test_nearest_config_wins(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mobius_sqlcheck]\nignore = ["MSC301"]\n')
    project = copy_fixture("mobius", tmp_path)
    with open(os.path.join(project, "mobius-sqlcheck.toml"), "w") as handle:
        handle.write('fail_on = "error"\n')
    monkeypatch.chdir(project)
    _, document = lint_json(capsys)
    assert "MSC301" in {d["rule"] for d in document["diagnostics"]}


def test_several_histories(tmp_path, capsys, monkeypatch) -> None:
    shutil.copytree(os.path.join(FIXTURES, "mobius", "migrations"), tmp_path / "app")
    shutil.copytree(os.path.join(FIXTURES, "dbmate", "db", "migrations"), tmp_path / "analytics")
    (tmp_path / "mobius-sqlcheck.toml").write_text('migrations = ["app", "analytics"]\n')
    monkeypatch.chdir(tmp_path)
    _, document = lint_json(capsys)
    assert document["layouts"] == {"analytics": "dbmate", "app": "mobius"}
    # Each history has its own catalog: both report their own MSC301.
    assert sorted(os.path.dirname(d["path"]) for d in document["diagnostics"] if d["rule"] == "MSC301") == [
        "analytics", "app"]


@pytest.mark.parametrize("layout", sorted(MIGRATIONS_DIR))
def test_lock_file_lists_the_layouts_units(layout: str, tmp_path, capsys, monkeypatch) -> None:
    project = copy_fixture(layout, tmp_path)
    monkeypatch.chdir(project)
    directory = MIGRATIONS_DIR[layout]
    assert main(["lock", directory]) == 0, capsys.readouterr()
    capsys.readouterr()
    with open(os.path.join(directory, "sqlcheck.sum"), encoding="utf-8") as handle:
        entries = [line.split()[0] for line in handle.read().splitlines()[1:]]
    assert len(entries) == len(set(entries))
    _, document = lint_json(capsys)
    assert not {"MSC104", "MSC105", "MSC107", "MSC109"} & {d["rule"] for d in document["diagnostics"]}
    # A new migration that sorts before the newest locked one is non-linear in every layout.
    assert entries, "nothing locked"


def test_lock_file_catches_an_edited_diesel_migration(tmp_path, capsys, monkeypatch) -> None:
    project = copy_fixture("diesel", tmp_path)
    monkeypatch.chdir(project)
    assert main(["lock", "migrations"]) == 0
    with open("migrations/2024-06-11-120000_create_profiles/up.sql", "a", encoding="utf-8") as handle:
        handle.write("create index idx_profiles_username on profiles (username);\n")
    capsys.readouterr()
    _, document = lint_json(capsys)
    assert [(d["path"], d["rule"]) for d in document["diagnostics"] if d["rule"] == "MSC105"] == [
        ("migrations/2024-06-11-120000_create_profiles/up.sql", "MSC105")]


def test_orphan_down_file_speaks_golang_migrate(tmp_path, capsys) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "000001_a.up.sql").write_text("select 1;\n")
    (directory / "000001_a.down.sql").write_text("select 1;\n")
    (directory / "000002_b.down.sql").write_text("select 1;\n")
    _, document = lint_json(capsys, str(directory))
    assert [(d["rule"], d["message"]) for d in document["diagnostics"]] == [
        ("MSC106", "000002_b.down.sql is a rollback without its forward migration")]


def test_empty_dbmate_down_section(tmp_path, capsys) -> None:
    directory = tmp_path / "db" / "migrations"
    directory.mkdir(parents=True)
    (directory / "20240101000000_t.sql").write_text("-- migrate:up\ncreate table t (id int primary key);\n\n"
                                                    "-- migrate:down\n")
    _, document = lint_json(capsys, "--select", "MSC003,MSC402", str(directory))
    assert [(d["rule"], d["line"], d["message"]) for d in document["diagnostics"]] == [
        ("MSC402", 2, "table public.t is created here but 20240101000000_t.sql (down) leaves it behind"),
        ("MSC003", 5, "the `-- migrate:down` section has no statement")]


def test_explicit_config_file_and_rollbacks_directory(tmp_path, capsys, monkeypatch) -> None:
    project = copy_fixture("supabase", tmp_path)
    rollbacks = os.path.join(project, "supabase", "rollbacks")
    os.makedirs(rollbacks)
    with open(os.path.join(rollbacks, "20240611120000_create_profiles.sql"), "w", encoding="utf-8") as handle:
        handle.write("drop table if exists profiles;\n")
    config = os.path.join(project, "config", "lint.toml")
    os.makedirs(os.path.dirname(config))
    with open(config, "w", encoding="utf-8") as handle:
        handle.write('migrations = "../supabase/migrations"\nrollbacks = "../supabase/rollbacks"\n')
    monkeypatch.chdir(tmp_path)
    _, document = lint_json(capsys, "--config", config)
    # Rollbacks kept: each migration needs one, and the one that exists is checked as a rollback.
    missing = sorted(os.path.basename(d["path"]) for d in document["diagnostics"] if d["rule"] == "MSC401")
    assert missing == ["20240612093000_create_notes.sql", "20240613101500_add_display_name.sql"]
    assert not [d for d in document["diagnostics"] if d["rule"] in ("MSC108", "MSC305", "MSC106")]


def test_down_section_drop_is_not_msc305_and_the_table_keeps_its_msc601(tmp_path, capsys) -> None:
    """Fails before layouts: dbmate files were replayed whole, so the down
    section's DROP COLUMN was MSC305 and the down section's DROP TABLE hid
    the table from MSC601."""
    (tmp_path / "supabase").mkdir()
    (tmp_path / "supabase" / "config.toml").write_text('project_id = "crm"\n')
    directory = tmp_path / "db" / "migrations"
    directory.mkdir(parents=True)
    (directory / "20240101000000_create_accounts.sql").write_text(
        "-- migrate:up\ncreate table accounts (id bigint primary key);\n\n"
        "-- migrate:down\ndrop table if exists accounts;\n")
    (directory / "20240102000000_add_email.sql").write_text(
        "-- migrate:up\nalter table accounts add column email text;\n\n"
        "-- migrate:down\nalter table if exists accounts drop column if exists email;\n")
    _, document = lint_json(capsys, str(directory))
    assert [(os.path.basename(d["path"]), d["line"], d["rule"]) for d in document["diagnostics"]] == [
        ("20240101000000_create_accounts.sql", 2, "MSC601")]


@pytest.mark.parametrize(("layout", "directory", "late", "newest"), [
    ("flyway", "db/migration", "V1_2__late.sql", "V3__index_notes_created_at.sql"),
    ("diesel", "migrations", "2024-06-12-000000_late/up.sql", "2024-06-14-080000_index_notes_created_at/up.sql"),
])
def test_lock_refuses_a_migration_inserted_before_the_newest_in_the_layouts_order(
        layout: str, directory: str, late: str, newest: str, tmp_path, capsys, monkeypatch) -> None:
    """Flyway's 1.2 sorts before 3 and diesel's dashed dates before a later one:
    the lock command and MSC104 order them as the tool does, not by our names."""
    monkeypatch.chdir(copy_fixture(layout, tmp_path))
    assert main(["lock", directory]) == 0
    late_path = os.path.join(directory, late)
    os.makedirs(os.path.dirname(late_path), exist_ok=True)
    with open(late_path, "w", encoding="utf-8") as handle:
        handle.write("create table late (id bigint primary key);\n")
    if layout == "diesel":
        with open(os.path.join(os.path.dirname(late_path), "down.sql"), "w", encoding="utf-8") as handle:
            handle.write("drop table late;\n")
    capsys.readouterr()
    assert main(["lock", directory]) == 1
    assert f"{late} sorts before {newest}, the newest locked migration" in capsys.readouterr().err
    _, document = lint_json(capsys, directory)
    assert [(d["path"], d["rule"]) for d in document["diagnostics"] if d["rule"] == "MSC104"] == [
        (late_path, "MSC104")]


def test_flyway_dotted_versions_are_not_duplicates(tmp_path, capsys) -> None:
    """V1_1 is version 1.1 and V11 is 11 (MSC102 once read both as 11); R__ files have no version."""
    directory = tmp_path / "db" / "migration"
    directory.mkdir(parents=True)
    (directory / "V1_1__accounts.sql").write_text("create table accounts (id bigint primary key);\n")
    (directory / "V11__notes.sql").write_text("create table notes (id bigint primary key);\n")
    (directory / "R__a_view.sql").write_text("create or replace view a_view as select 1 as one;\n")
    (directory / "R__b_view.sql").write_text("create or replace view b_view as select 2 as two;\n")
    _, document = lint_json(capsys, str(directory))
    assert document["layout"] == "flyway"
    assert [d for d in document["diagnostics"] if d["rule"] == "MSC102"] == []


@pytest.mark.parametrize("layout", ["supabase", "golang-migrate", "mobius"])
def test_needs_no_transaction_hint_is_the_layouts_way(layout: str, tmp_path, capsys, monkeypatch) -> None:
    from mobius_sqlcheck.layouts import outside_transaction_hint
    from mobius_sqlcheck.policy.transactions import MOVE_OUT_HINT

    index = "CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id_idx ON t (id);\n"
    files = {"supabase": ("supabase/migrations", {"20240101000000_t.sql": index}),
             "golang-migrate": ("db/migrations", {"1_t.up.sql": index, "1_t.down.sql": "DROP TABLE IF EXISTS t;\n"}),
             "mobius": ("migrations", {"001_t.sql": index, "001_t_rollback.sql": "DROP TABLE IF EXISTS t;\n"})}
    where, contents = files[layout]
    directory = write_migrations(tmp_path / where, contents)
    _, document = lint_json(capsys, str(directory))
    [hint] = [d["hint"] for d in document["diagnostics"] if d["rule"] == "MSC504"]
    assert hint == (MOVE_OUT_HINT if layout == "mobius" else outside_transaction_hint(layout))
    assert (MOVE_OUT_HINT in hint) == (layout == "mobius")

"""The catalog replay: what statements create, and what they remove
implicitly (the single place rollback checks rely on)."""

from __future__ import annotations

import pytest

from mobius_sqlcheck.catalog import UNKNOWN, Catalog, FunctionKey, ObjectRef, Origin
from mobius_sqlcheck.parse import parse_source
from mobius_sqlcheck.lint.replay import replay as replay_file
from mobius_sqlcheck.source import SourceFile

BRANDS_ASSETS = """
CREATE TABLE brands (brand_id uuid PRIMARY KEY, name text);
CREATE TABLE assets (
    asset_id uuid PRIMARY KEY,
    brand_id uuid NOT NULL REFERENCES brands (brand_id),
    job_id uuid
);
CREATE INDEX idx_assets_brand ON assets (brand_id);
CREATE INDEX idx_assets_job ON assets (job_id) WHERE job_id IS NOT NULL;
"""


def replay(sql: str, catalog: Catalog | None = None, path: str = "001_init.sql") -> tuple[Catalog, list[ObjectRef]]:
    catalog = catalog or Catalog()
    source = SourceFile(path, sql, sql.encode("utf-8"))
    replayed = replay_file(catalog, parse_source(source), path)
    assert replayed.failures == []
    return catalog, [ref for ref, _ in replayed.created]


def test_foreign_keys_are_named_like_postgresql() -> None:
    catalog, _ = replay(BRANDS_ASSETS + "ALTER TABLE assets ADD CONSTRAINT assets_job_fk FOREIGN KEY (job_id) REFERENCES jobs;")
    names = [fk.name for fk in catalog.tables[("public", "assets")].foreign_keys]
    assert names == ["assets_brand_id_fkey", "assets_job_fk"]
    assert catalog.referrers_of(("public", "brands")) == {("public", "assets")}


def test_drop_constraint_forgets_the_reference() -> None:
    catalog, _ = replay(BRANDS_ASSETS + "ALTER TABLE assets DROP CONSTRAINT assets_brand_id_fkey;")
    assert catalog.tables[("public", "assets")].foreign_keys == ()
    assert catalog.referrers_of(("public", "brands")) == set()


def test_drop_column_takes_its_indexes_checks_and_foreign_keys() -> None:
    catalog, _ = replay(BRANDS_ASSETS + """
ALTER TABLE assets ADD CONSTRAINT assets_job_check CHECK (job_id IS NOT NULL) NOT VALID;
ALTER TABLE assets DROP COLUMN job_id;
ALTER TABLE assets DROP COLUMN brand_id;
""")
    assets = catalog.tables[("public", "assets")]
    assert ("public", "idx_assets_job") not in catalog.indexes  # the predicate used it
    assert ("public", "idx_assets_brand") not in catalog.indexes
    assert catalog.indexes_on(assets.key) == [] and assets.checks == {} and assets.foreign_keys == ()
    assert catalog.referrers_of(("public", "brands")) == set()


def test_drop_table_takes_the_foreign_keys_into_it() -> None:
    catalog, _ = replay(BRANDS_ASSETS + "DROP TABLE brands CASCADE;")
    assert catalog.tables[("public", "assets")].foreign_keys == ()


def test_checks_track_not_null_proofs_and_validation() -> None:
    catalog, _ = replay(BRANDS_ASSETS + """
ALTER TABLE assets ADD CONSTRAINT assets_job_nn CHECK (job_id IS NOT NULL AND brand_id IS NOT NULL) NOT VALID;
ALTER TABLE brands ADD CHECK (name <> '');
""")
    check = catalog.tables[("public", "assets")].checks["assets_job_nn"]
    assert check.not_null_columns == {"job_id", "brand_id"} and not check.validated
    assert "brands_name_check" in catalog.tables[("public", "brands")].checks
    replay("ALTER TABLE assets VALIDATE CONSTRAINT assets_job_nn;", catalog)
    assert catalog.tables[("public", "assets")].checks["assets_job_nn"].validated


def test_force_row_level_security_does_not_enable_it() -> None:
    catalog, _ = replay("CREATE TABLE feedback (id int); ALTER TABLE feedback FORCE ROW LEVEL SECURITY;")
    feedback = catalog.tables[("public", "feedback")]
    assert feedback.rls_forced and not feedback.rls_enabled


def test_fork_never_changes_the_parent() -> None:
    parent, _ = replay(BRANDS_ASSETS + "ALTER TABLE assets ADD CONSTRAINT c CHECK (job_id IS NOT NULL) NOT VALID;")
    child = parent.fork()
    replay("""
ALTER TABLE assets VALIDATE CONSTRAINT c;
ALTER TABLE brands ADD PRIMARY KEY (name);
ALTER TABLE assets RENAME COLUMN job_id TO job;
DROP TABLE brands CASCADE;
""", child)
    assert not parent.tables[("public", "assets")].checks["c"].validated
    assert not parent.tables[("public", "brands")].columns["name"].not_null
    assert "job_id" in parent.tables[("public", "assets")].columns
    assert parent.tables[("public", "assets")].foreign_keys[0].target == ("public", "brands")
    assert ("public", "brands") not in child.tables


def test_rename_table_rekeys_its_triggers_policies_indexes_and_references() -> None:
    catalog, _ = replay(BRANDS_ASSETS + """
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER brands_touch_trigger BEFORE UPDATE ON brands FOR EACH ROW EXECUTE FUNCTION touch();
CREATE POLICY brands_read ON brands FOR SELECT USING (true);
ALTER TABLE brands RENAME TO clients;
""")
    assert ("public", "clients", "brands_touch_trigger") in catalog.triggers
    assert catalog.triggers_calling(FunctionKey("public", "touch", ())) == {("public", "clients", "brands_touch_trigger")}
    assert catalog.exists(ObjectRef("policy", ("public", "clients", "brands_read")))
    assert catalog.tables[("public", "assets")].foreign_keys[0].target == ("public", "clients")
    replay("DROP TABLE assets; DROP TABLE clients;", catalog)
    assert not catalog.triggers and not catalog.indexes
    assert not catalog.exists(ObjectRef("policy", ("public", "clients", "brands_read")))


def test_rename_column_follows_into_indexes() -> None:
    catalog, _ = replay(BRANDS_ASSETS + "ALTER TABLE assets RENAME COLUMN job_id TO job; ALTER TABLE assets DROP COLUMN job;")
    assert ("public", "idx_assets_job") not in catalog.indexes


def test_rename_trigger_and_function() -> None:
    catalog, _ = replay(BRANDS_ASSETS + """
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t1 BEFORE UPDATE ON brands FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TRIGGER t1 ON brands RENAME TO brands_touch_trigger;
ALTER FUNCTION touch() RENAME TO set_updated_at;
""")
    assert list(catalog.triggers) == [("public", "brands", "brands_touch_trigger")]
    assert catalog.triggers[("public", "brands", "brands_touch_trigger")].function == ("public", "set_updated_at", ())
    replay("DROP FUNCTION set_updated_at() CASCADE;", catalog)
    assert not catalog.triggers


def test_bucket_rows_selected_by_or_and_any() -> None:
    catalog, created = replay("""
INSERT INTO storage.buckets (id, name) VALUES ('brands', 'brands'), ('assets', 'assets'), ('tmp', 'tmp');
DELETE FROM storage.buckets WHERE id = 'brands' OR id = ANY (ARRAY['assets']);
DELETE FROM storage.buckets WHERE id <> 'tmp';
""")
    assert len(created) == 3
    assert list(catalog.buckets) == ["tmp"]


def test_bucket_literals_read_as_their_column_types() -> None:
    catalog, _ = replay("""
INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
VALUES ('assets', 'assets', 'f', '10485760', '{image/png,image/webp}');
UPDATE storage.buckets SET allowed_mime_types = '{}' WHERE id = 'assets';
""")
    values = catalog.buckets["assets"].values
    assert (values["public"], values["file_size_limit"], values["allowed_mime_types"]) == (False, 10485760, [])


def test_replay_isolates_a_failing_statement_and_goes_on() -> None:
    sql = "CREATE TABLE brands (id int); CREATE TABLE assets (id int);"
    parsed = parse_source(SourceFile("001_init.sql", sql, sql.encode("utf-8")))
    broken = parsed.statements[0]._replace(node={})  # a tree the catalog cannot read
    parsed.statements[0] = broken
    catalog = Catalog()
    replayed = replay_file(catalog, parsed, "001_init.sql")
    assert [(f.path, f.statement.start, type(f.error)) for f in replayed.failures] == [("001_init.sql", 0, KeyError)]
    assert list(catalog.tables) == [("public", "assets")]
    assert replayed.created == [(ObjectRef("table", ("public", "assets")), Origin("001_init.sql", 43))]


def test_history_replay_for_the_applier_refuses_an_unreadable_file(tmp_path) -> None:
    from mobius_sqlcheck.lint.replay import HistoryError, replay_history
    from mobius_sqlcheck.migrations import build_migration_set

    (tmp_path / "001_init.sql").write_text("CREATE TABLE brands (id int);\n")
    (tmp_path / "002_bad.sql").write_bytes(b"SELECT '\xff';\n")
    migration_set = build_migration_set(str(tmp_path), [str(tmp_path / "001_init.sql"), str(tmp_path / "002_bad.sql")])
    assert list(replay_history(migration_set, upto="1").tables) == [("public", "brands")]
    with pytest.raises(HistoryError, match="002_bad.sql"):
        replay_history(migration_set)


def test_a_catalog_round_trips_through_json() -> None:
    """The history cache stores catalog snapshots as JSON: what comes back
    is the same catalog, reverse links included."""
    import json
    from pathlib import Path

    from mobius_sqlcheck.catalog_data import from_data, to_data
    from mobius_sqlcheck.lint.replay import replay_history
    from mobius_sqlcheck.migrations import build_migration_set, list_sql_files

    directory = str(Path(__file__).resolve().parent.parent / "migrations")
    catalog = replay_history(build_migration_set(directory, list_sql_files(directory)))
    catalog, _ = replay(BRANDS_ASSETS + """
CREATE FUNCTION public.f(n int) RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER brands_f_trigger BEFORE UPDATE ON brands FOR EACH ROW EXECUTE FUNCTION f();
CREATE POLICY brands_read ON brands FOR SELECT USING (true);
INSERT INTO storage.buckets (id, name, public, file_size_limit) VALUES ('b', 'b', now() IS NULL, 10);
""", catalog)
    data = to_data(catalog)
    again = from_data(json.loads(json.dumps(data)))
    assert to_data(again) == data
    assert len(data["tables"]) >= 5 and data["functions"] and data["buckets"] and data["triggers"]
    for key in catalog.tables:
        assert again.indexes_on(key) == catalog.indexes_on(key)
        assert again.triggers_on(key) == catalog.triggers_on(key)
        assert again.policies_on(key) == catalog.policies_on(key)
        assert again.referrers_of(key) == catalog.referrers_of(key)
    for key in catalog.functions:
        assert again.triggers_calling(key) == catalog.triggers_calling(key)
    assert again.buckets["b"].values["public"] is UNKNOWN

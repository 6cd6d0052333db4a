"""Schema drift: the live database vs. what the applied migrations create.

The live side is read with the four queries the original migrations README
prescribes (tables, indexes, triggers, storage buckets) plus the columns of
those tables. The expected side comes from replaying the applied migration
files into the linter's catalog (lint.replay.replay_history), so verify knows
exactly what the linter knows. Only schema `public` and storage.buckets are
compared: the platform's own schemas are not the migrations' business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from mobius_sqlcheck.migrations import MigrationSet

TABLES_QUERY = """
    SELECT table_name, table_type FROM information_schema.tables
    WHERE table_schema = 'public' ORDER BY table_name"""
COLUMNS_QUERY = """
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"""
# Indexes that back a constraint (primary key, UNIQUE) are implied by their
# table, so they are left out of the comparison.
INDEXES_QUERY = """
    SELECT i.indexname, i.tablename, i.indexdef,
           EXISTS (SELECT 1 FROM pg_constraint c
                   WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
    FROM pg_indexes AS i WHERE i.schemaname = 'public' ORDER BY i.indexname"""
TRIGGERS_QUERY = """
    SELECT DISTINCT event_object_table, trigger_name FROM information_schema.triggers
    WHERE trigger_schema = 'public' ORDER BY 1, 2"""
BUCKETS_QUERY = "SELECT id, name, public, file_size_limit, allowed_mime_types FROM storage.buckets ORDER BY id"
BUCKET_FIELDS = ("name", "public", "file_size_limit", "allowed_mime_types")
# What PostgreSQL stores when an INSERT leaves a column out.
BUCKET_DEFAULTS: dict[str, Any] = {"public": False, "file_size_limit": None, "allowed_mime_types": None}


@dataclass(frozen=True)
class IndexShape:
    table: str
    unique: bool
    partial: bool


@dataclass
class SchemaShape:
    tables: dict[str, set[str] | None] = field(default_factory=dict)  # table -> columns (None: a view)
    indexes: dict[str, IndexShape] = field(default_factory=dict)
    triggers: set[tuple[str, str]] = field(default_factory=set)  # (table, trigger)
    buckets: dict[str, dict[str, Any]] | None = field(default_factory=dict)  # None: no storage.buckets


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str  # "missing", "unexpected", "mismatched", "invalid" (an index)
    object: str
    detail: str = ""

    def render(self) -> str:
        return f"{self.kind:<11} {self.object}" + (f": {self.detail}" if self.detail else "")

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "object": self.object, "detail": self.detail}


# --- the live database ---


def read_live(conn: psycopg.Connection) -> SchemaShape:
    shape = SchemaShape()
    for name, table_type in conn.execute(TABLES_QUERY).fetchall():
        shape.tables[name] = set() if table_type == "BASE TABLE" else None
    for table, column in conn.execute(COLUMNS_QUERY).fetchall():
        columns = shape.tables.get(table)
        if columns is not None:
            columns.add(column)
    for name, table, definition, backs_constraint in conn.execute(INDEXES_QUERY).fetchall():
        if not backs_constraint:
            shape.indexes[name] = IndexShape(table, " UNIQUE INDEX " in definition, " WHERE " in definition)
    shape.triggers = {(t, n) for t, n in conn.execute(TRIGGERS_QUERY).fetchall()}
    shape.buckets = read_buckets(conn)
    return shape


def read_buckets(conn: psycopg.Connection) -> dict[str, dict[str, Any]] | None:
    exists = conn.execute("SELECT to_regclass('storage.buckets') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    return {row[0]: dict(zip(BUCKET_FIELDS, row[1:])) for row in conn.execute(BUCKETS_QUERY).fetchall()}


# --- what the migrations create ---


def expected_shape(migration_set: MigrationSet, applied: set[tuple[str, str]] | None) -> SchemaShape:
    """Replay the applied forward migrations (all of them when `applied` is None)."""
    from mobius_sqlcheck.lint.replay import replay_history  # the linter's engine; heavy, so imported late

    subset = MigrationSet(migration_set.directory, migration_set.layout)
    subset.forwards = [m for m in migration_set.forwards if applied is None or (m.version, m.name) in applied]
    catalog = replay_history(subset)  # the layout's units: a dbmate file replays its up section only
    return shape_of_catalog(catalog)


def shape_of_catalog(catalog: Any) -> SchemaShape:
    shape = SchemaShape()
    for (schema, name), table in catalog.tables.items():
        if schema == "public" and not table.temporary and not table.external and table.kind in ("table", "view"):
            shape.tables[name] = set(table.columns) if table.kind == "table" else None
    for (schema, name), index in catalog.indexes.items():
        if schema == "public":
            shape.indexes[name] = IndexShape(index.table[1], index.unique, index.partial)
    shape.triggers = {(table, name) for (schema, table, name) in catalog.triggers if schema == "public"}
    shape.buckets = {bucket_id: dict(bucket.values) for bucket_id, bucket in catalog.buckets.items()}
    return shape


# --- comparing ---


def compare(expected: SchemaShape, live: SchemaShape) -> list[Difference]:
    return [
        *_compare_tables(expected, live),
        *_compare_indexes(expected, live),
        *_compare_triggers(expected, live),
        *_compare_buckets(expected, live),
    ]


def _compare_tables(expected: SchemaShape, live: SchemaShape) -> list[Difference]:
    found = _presence("table", set(expected.tables), set(live.tables))
    for name in sorted(set(expected.tables) & set(live.tables)):
        want, have = expected.tables[name], live.tables[name]
        if want is None or have is None:
            continue
        found += [Difference("missing", f"column {name}.{c}") for c in sorted(want - have)]
        found += [Difference("unexpected", f"column {name}.{c}") for c in sorted(have - want)]
    return found


def _compare_indexes(expected: SchemaShape, live: SchemaShape) -> list[Difference]:
    found = _presence("index", set(expected.indexes), set(live.indexes))
    for name in sorted(set(expected.indexes) & set(live.indexes)):
        want, have = expected.indexes[name], live.indexes[name]
        if want != have:
            found.append(Difference("mismatched", f"index {name}", f"expected {_index_text(want)}, found {_index_text(have)}"))
    return found


def _index_text(shape: IndexShape) -> str:
    flags = [flag for flag, on in (("unique", shape.unique), ("partial", shape.partial)) if on]
    return f"on {shape.table}" + (f" ({', '.join(flags)})" if flags else "")


def _compare_triggers(expected: SchemaShape, live: SchemaShape) -> list[Difference]:
    return _presence("trigger", {f"{n} on {t}" for t, n in expected.triggers}, {f"{n} on {t}" for t, n in live.triggers})


def _compare_buckets(expected: SchemaShape, live: SchemaShape) -> list[Difference]:
    want = expected.buckets or {}
    if live.buckets is None:
        if not want:
            return []
        return [Difference("missing", "table storage.buckets", "Storage is not enabled on this project")]
    found = _presence("storage bucket", set(want), set(live.buckets))
    for bucket_id in sorted(set(want) & set(live.buckets)):
        found += _compare_bucket(bucket_id, want[bucket_id], live.buckets[bucket_id])
    return found


def _compare_bucket(bucket_id: str, want: dict[str, Any], have: dict[str, Any]) -> list[Difference]:
    from mobius_sqlcheck.nodes import UNKNOWN

    found = []
    for field_name in BUCKET_FIELDS:
        expected_value = want.get(field_name, BUCKET_DEFAULTS.get(field_name, UNKNOWN))
        if expected_value is UNKNOWN or (field_name == "name" and field_name not in want):
            continue
        if _normalise(expected_value) != _normalise(have.get(field_name)):
            found.append(Difference(
                "mismatched", f"storage bucket {bucket_id}",
                f"{field_name} is {have.get(field_name)!r}, the migrations set {expected_value!r}",
            ))
    return found


def _normalise(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return sorted(str(v) for v in value)
    return value


def _presence(kind: str, expected: set[str], live: set[str]) -> list[Difference]:
    return [Difference("missing", f"{kind} {n}") for n in sorted(expected - live)] + [
        Difference("unexpected", f"{kind} {n}") for n in sorted(live - expected)
    ]

"""`verify`'s side-by-side view: the four catalog queries' answers (tables,
indexes, triggers, storage buckets) beside what the migrations say they
should be, one line per object, so someone used to running those queries by
hand sees them answered. A line that disagrees starts with `!`; the
differences themselves are listed after it, as before.
"""

from __future__ import annotations

from typing import Any

from mobius_sqlcheck.applier.verify import BUCKET_DEFAULTS, BUCKET_FIELDS, IndexShape, SchemaShape

ABSENT = "-"
Row = tuple[str, str, str]  # (object, in the database, what the migrations say)


def side_by_side(expected: SchemaShape, live: SchemaShape) -> list[str]:
    lines: list[str] = []
    for title, rows in (
        ("tables (information_schema.tables, schema public)", _tables(expected, live)),
        ("indexes (pg_indexes, schema public; those behind a primary key or UNIQUE constraint left out)",
         _indexes(expected, live)),
        ("triggers (information_schema.triggers, schema public)", _triggers(expected, live)),
        ("storage buckets (storage.buckets)", _buckets(expected, live)),
    ):
        lines.append(f"-- {title}")
        lines += _render(rows) if rows else ["   (none in the database, none in the migrations)"]
    return lines


def as_json(expected: SchemaShape, live: SchemaShape) -> dict[str, list[dict[str, str]]]:
    return {
        kind: [{"object": o, "database": d, "migrations": m} for o, d, m in rows]
        for kind, rows in (("tables", _tables(expected, live)), ("indexes", _indexes(expected, live)),
                           ("triggers", _triggers(expected, live)), ("buckets", _buckets(expected, live)))
    }


def _render(rows: list[Row]) -> list[str]:
    header: Row = ("", "database", "migrations")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(2)]

    def line(mark: str, row: Row) -> str:
        return f"{mark} {row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip()

    return [line(" ", header)] + [line("!" if row[1] != row[2] else " ", row) for row in rows]


def _tables(expected: SchemaShape, live: SchemaShape) -> list[Row]:
    def text(shape: SchemaShape, name: str, other: SchemaShape) -> str:
        if name not in shape.tables:
            return ABSENT
        columns, theirs = shape.tables[name], other.tables.get(name)
        if columns is None:
            return "view"
        extra = sorted(columns - theirs) if theirs is not None else []
        return f"{len(columns)} columns" + (f" (only here: {', '.join(extra)})" if extra else "")

    return [(name, text(live, name, expected), text(expected, name, live))
            for name in sorted(set(expected.tables) | set(live.tables))]


def _indexes(expected: SchemaShape, live: SchemaShape) -> list[Row]:
    def text(index: IndexShape | None) -> str:
        if index is None:
            return ABSENT
        flags = [flag for flag, on in (("unique", index.unique), ("partial", index.partial)) if on]
        return f"on {index.table}" + (f" ({', '.join(flags)})" if flags else "")

    names = sorted(set(expected.indexes) | set(live.indexes))
    return [(name, text(live.indexes.get(name)), text(expected.indexes.get(name))) for name in names]


def _triggers(expected: SchemaShape, live: SchemaShape) -> list[Row]:
    keys = sorted(expected.triggers | live.triggers, key=lambda k: (k[1], k[0]))
    return [(f"{name} on {table}", "present" if (table, name) in live.triggers else ABSENT,
             "present" if (table, name) in expected.triggers else ABSENT) for table, name in keys]


def _buckets(expected: SchemaShape, live: SchemaShape) -> list[Row]:
    want = expected.buckets or {}
    have = live.buckets or {}
    rows = [(bucket, _bucket_text(have.get(bucket), set(BUCKET_FIELDS)),
             _bucket_text(want.get(bucket), set(BUCKET_FIELDS) if bucket not in want else set(want[bucket])))
            for bucket in sorted(set(want) | set(have))]
    if live.buckets is None and want:
        rows.insert(0, ("storage.buckets", "no such table", "needed"))
    return rows


def _bucket_text(values: dict[str, Any] | None, given: set[str]) -> str:
    """The bucket's fields as the query returns them; for the migrations'
    side, the fields they leave out take the column defaults."""
    if values is None:
        return ABSENT
    parts = []
    for field_name in BUCKET_FIELDS:
        if field_name == "name":
            continue
        value = values.get(field_name) if field_name in given else BUCKET_DEFAULTS.get(field_name)
        parts.append(f"{field_name}={_value_text(value)}")
    return " ".join(parts)


def _value_text(value: Any) -> str:
    from mobius_sqlcheck.nodes import UNKNOWN

    if value is UNKNOWN:
        return "(not a constant)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "{" + ",".join(sorted(str(v) for v in value)) + "}"
    return str(value)

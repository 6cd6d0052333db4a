"""Migration 005 (brands.compressed_twin) against the real database, as the
original project tested it.

The size guard lives in the database: 005 adds CHECK
(octet_length(compressed_twin::text) <= 240000), i.e. about 60k tokens of the
Vision model's 65k at ~4 bytes per token. The compressor should still count
real tokens before writing; the CHECK is the last line of defence, and this
test pins it on both sides of the limit.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.applier.helpers import MIGRATIONS, Db, apply_args

pytestmark = pytest.mark.pg17  # runs on PostgreSQL 17 as well (tests/conftest.py)

LIMIT_BYTES = 240_000
ORG = "00000000-0000-0000-0000-000000000001"


def _insert_brand(conn: psycopg.Connection, name: str, twin: str | None = None) -> str:
    guidelines = json.dumps({"name": name, "colours": ["#112233"], "fonts": ["Inter"], "rules": ["x" * 50]})
    if twin is None:
        row = conn.execute(
            "INSERT INTO brands (organization_id, name, guidelines) VALUES (%s, %s, %s) RETURNING brand_id",
            (ORG, name, guidelines),
        ).fetchone()
    else:
        row = conn.execute(
            "INSERT INTO brands (organization_id, name, guidelines, compressed_twin) VALUES (%s, %s, %s, %s)"
            " RETURNING brand_id", (ORG, name, guidelines, twin),
        ).fetchone()
    assert row is not None
    return str(row[0])


def _twin_of_size(conn: psycopg.Connection, size: int) -> str:
    """A JSON twin whose jsonb text form is exactly `size` bytes."""
    overhead = conn.execute("SELECT octet_length(%s::jsonb::text)", (json.dumps({"c": ""}),)).fetchone()[0]
    twin = json.dumps({"c": "x" * (size - overhead)})
    assert conn.execute("SELECT octet_length(%s::jsonb::text)", (twin,)).fetchone()[0] == size
    return twin


@pytest.fixture
def before_005(db: Db, run_cli) -> Db:
    assert run_cli(*apply_args(db, MIGRATIONS, "--skip-lint", "--target", "004")).code == 0
    return db


def test_compressed_twin(before_005: Db, run_cli) -> None:
    db = before_005
    with psycopg.connect(db.direct, autocommit=True) as conn:
        existing = [_insert_brand(conn, f"existing {n}") for n in range(3)]
        guidelines_before = conn.execute("SELECT brand_id, guidelines FROM brands ORDER BY brand_id").fetchall()

    assert run_cli(*apply_args(db, MIGRATIONS, "--skip-lint")).code == 0

    with psycopg.connect(db.direct, autocommit=True) as conn:
        # The column exists, is jsonb, nullable, and queryable; existing brands are NULL.
        column = conn.execute(
            "SELECT data_type, is_nullable FROM information_schema.columns"
            " WHERE table_name = 'brands' AND column_name = 'compressed_twin'"
        ).fetchone()
        assert column == ("jsonb", "YES")
        assert conn.execute("SELECT count(*) FROM brands WHERE compressed_twin IS NULL").fetchone()[0] == 3
        assert conn.execute("SELECT brand_id, guidelines FROM brands ORDER BY brand_id").fetchall() == guidelines_before

        # A new brand stores a twin; it reads back and updates.
        twin = {"colours": {"primary": "#112233"}, "fonts": ["Inter"], "constraints": ["logo clear space"]}
        new_brand = _insert_brand(conn, "new", json.dumps(twin))
        assert conn.execute("SELECT compressed_twin FROM brands WHERE brand_id = %s", (new_brand,)).fetchone()[0] == twin
        conn.execute("UPDATE brands SET compressed_twin = compressed_twin || '{\"fonts\": [\"Roboto\"]}' WHERE brand_id = %s",
                     (new_brand,))
        assert conn.execute("SELECT compressed_twin->'fonts' FROM brands WHERE brand_id = %s",
                            (new_brand,)).fetchone()[0] == ["Roboto"]

        # The partial index is used for brands that have a twin.
        assert db.exists("public.idx_brands_compressed_twin")

        # Size guard: exactly at the limit passes, one byte over fails, on insert and on update.
        _insert_brand(conn, "at limit", _twin_of_size(conn, LIMIT_BYTES))
        with pytest.raises(psycopg.errors.CheckViolation):
            _insert_brand(conn, "over limit", _twin_of_size(conn, LIMIT_BYTES + 1))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE brands SET compressed_twin = %s WHERE brand_id = %s",
                         (_twin_of_size(conn, LIMIT_BYTES + 1), existing[0]))
        guidelines_after_005 = conn.execute("SELECT brand_id, guidelines FROM brands ORDER BY brand_id").fetchall()

    # The rollback removes the column, its index and guard; every brand's guidelines stay.
    assert run_cli("rollback", "--steps", "1", "--database-url", db.url, "--migrations", str(MIGRATIONS)).code == 0
    assert not db.exists("public.idx_brands_compressed_twin")
    assert db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'brands'"
                     " AND column_name = 'compressed_twin'") == 0
    assert db.scalar("SELECT count(*) FROM pg_constraint WHERE conname = 'brands_compressed_twin_token_budget_check'") == 0
    assert db.query("SELECT brand_id, guidelines FROM brands ORDER BY brand_id") == guidelines_after_005
    assert db.scalar("SELECT count(*) FROM brands") == 5

"""Invalid indexes: what a cancelled or interrupted CREATE INDEX CONCURRENTLY
leaves behind.

Such a build fails half way and leaves the index in the catalog with
`pg_index.indisvalid = false` (or `indisready = false`): the planner never
uses it, a UNIQUE one enforces nothing for existing rows, and a re-run's
`CREATE INDEX CONCURRENTLY IF NOT EXISTS` skips it because the name exists.
So before such a statement the runner drops an invalid leftover of the
same name (`DROP INDEX CONCURRENTLY`) and after it checks that the index is
valid; `verify` and `status` report every invalid index as drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from mobius_sqlcheck.applier.script import Piece

# Every schema but the server's own: an invalid index anywhere else is drift.
INVALID_QUERY = """
    SELECT n.nspname, c.relname, t.relname, i.indisvalid, i.indisready
    FROM pg_index AS i
    JOIN pg_class AS c ON c.oid = i.indexrelid
    JOIN pg_class AS t ON t.oid = i.indrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE NOT (i.indisvalid AND i.indisready)
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2"""

_STATE_QUERY = """
    SELECT i.indisvalid AND i.indisready,
           (SELECT p.pid FROM pg_stat_progress_create_index AS p WHERE p.index_relid = i.indexrelid LIMIT 1)
    FROM pg_index AS i WHERE i.indexrelid = to_regclass(%s)"""


@dataclass(frozen=True, slots=True)
class InvalidIndex:
    schema: str
    name: str
    table: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True, slots=True)
class IndexState:
    valid: bool
    building_pid: int | None  # a backend building it right now


def invalid_indexes(conn: psycopg.Connection) -> list[InvalidIndex]:
    return [InvalidIndex(r[0], r[1], r[2]) for r in conn.execute(INVALID_QUERY).fetchall()]


def built_index(piece: Piece) -> str | None:
    """The quoted, schema-qualified name of the index a CREATE INDEX
    CONCURRENTLY statement builds (IF NOT EXISTS requires a name), else None."""
    node: dict[str, Any] = piece.node
    if piece.node_type != "IndexStmt" or not node.get("concurrent") or not node.get("idxname"):
        return None
    schema = (node.get("relation") or {}).get("schemaname")
    name = quote_ident(node["idxname"])
    return f"{quote_ident(schema)}.{name}" if schema else name  # the index lives in its table's schema


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def state(conn: psycopg.Connection, index: str) -> IndexState | None:
    """The index's state, None when there is no such index."""
    row = conn.execute(_STATE_QUERY, (index,)).fetchone()
    return IndexState(bool(row[0]), row[1]) if row else None

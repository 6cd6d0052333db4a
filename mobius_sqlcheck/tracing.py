"""`trace`: which locks each migration statement really takes, on a real server.

The forward migrations run in order on a database, one transaction per file
as the applier runs them (statement by statement, `SET LOCAL lock_timeout`),
and after each statement we read, for the objects that existed before the
migration (tables, views, materialized views):

- the relation locks the transaction holds that it did not hold before the
  statement (`pg_locks` of our own backend);
- a rewrite: `pg_class.relfilenode` changed;
- the statement's duration.

Each statement is also classified by the static lock model
(`mobius_sqlcheck.locks`, on the catalog replayed up to it); where the two
disagree, the model is wrong for that form, and the statement is a finding
of its own. Only locks of SHARE UPDATE EXCLUSIVE and stronger are compared
(the ones that block DDL or writes); weaker ones are shown, not compared.
A file with the no-transaction directive runs statement by statement in
autocommit: its locks end with each statement and cannot be read, so it is
run but not traced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg

from mobius_sqlcheck import locks, nodes
from mobius_sqlcheck.applier.script import Script, load_script
from mobius_sqlcheck.catalog import Catalog
from mobius_sqlcheck.migrations import MigrationSet
from mobius_sqlcheck.parse import Statement, parse_source

# Relations of the user's schema (not the server's own catalogs).
_RELATIONS = """
    SELECT c.oid, n.nspname, c.relname, c.relfilenode FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm', 'v', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""
_LOCKS = "SELECT relation, mode FROM pg_locks WHERE locktype = 'relation' AND pid = pg_backend_pid() AND granted"
COMPARED_FROM = "ShareUpdateExclusiveLock"


@dataclass
class StatementTrace:
    line: int
    column: int
    text: str
    duration_ms: float
    locks: dict[str, str]  # "schema.table" -> strongest new mode on it
    rewritten: list[str]
    predicted_locks: dict[str, str]
    predicted_rewrites: list[str]
    uncertain: list[str] = field(default_factory=list)  # the model guesses for these (a column of unknown type)
    disagreements: list[str] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        flags = []
        if any(mode == "AccessExclusiveLock" for mode in self.locks.values()):
            flags.append("ACCESS EXCLUSIVE on an existing table")
        if self.rewritten:
            flags.append("rewrite")
        if self.disagreements:
            flags.append("model disagrees")
        return flags


@dataclass
class FileTrace:
    path: str
    traced: bool  # False: a no-transaction file, run but not traced
    statements: list[StatementTrace] = field(default_factory=list)
    error: str | None = None


def trace_migrations(url: str, migration_set: MigrationSet, version: int = locks.DEFAULT_VERSION,
                     lock_timeout: str = "10s", seed_rows: int = 0) -> list[FileTrace]:
    """Apply every forward migration of the set on `url`, tracing each; stops at the first failure."""
    catalog = Catalog()
    results = []
    with psycopg.connect(url, prepare_threshold=None) as conn:
        for migration in migration_set.forwards:
            script = load_script(migration)  # a dbmate section alone, positions in the real file
            if seed_rows:
                seed(conn, seed_rows)
            result = _trace_file(conn, script, catalog, version, lock_timeout)
            results.append(result)
            if result.error is not None:
                break
    return results


def _trace_file(conn: psycopg.Connection, script: Script, catalog: Catalog, version: int,
                lock_timeout: str) -> FileTrace:
    statements = _statements(script)
    result = FileTrace(script.path, traced=not script.no_transaction)
    if any(_copies_from_client(statement) for statement in statements):
        result.error = "COPY ... FROM STDIN needs its data from psql: not traced"
        return result
    if script.no_transaction:
        conn.autocommit = True
        try:
            for statement in statements:
                conn.execute(_text(script, statement))
                _replay(catalog, statement, script)
        except psycopg.Error as error:
            result.error = _error_text(error)
        finally:
            conn.autocommit = False
        return result
    try:
        with conn.transaction():
            conn.execute("SELECT set_config('lock_timeout', %s, true)", (lock_timeout,))
            existing = _relations(conn)
            for statement in statements:
                result.statements.append(_trace_statement(conn, script, statement, catalog, existing, version))
                _replay(catalog, statement, script)
    except psycopg.Error as error:
        result.error = _error_text(error)
    return result


def _trace_statement(conn: psycopg.Connection, script: Script, statement: Statement, catalog: Catalog,
                     existing: dict[int, tuple[str, int]], version: int) -> StatementTrace:
    held_before = set(conn.execute(_LOCKS).fetchall())
    files_before = _relations(conn)
    started = time.perf_counter()
    conn.execute(_text(script, statement))
    duration = (time.perf_counter() - started) * 1000
    held_after = set(conn.execute(_LOCKS).fetchall())
    files_after = _relations(conn)
    observed: dict[str, str] = {}
    for oid, mode in held_after - held_before:
        if oid in existing:
            name = existing[oid][0]
            observed[name] = locks.stronger(observed.get(name), mode) or mode
    rewritten = sorted(existing[oid][0] for oid, (_, node) in files_before.items()
                       if oid in existing and oid in files_after and files_after[oid][1] != node)
    names = {name for name, _ in existing.values()}
    # The session's real time zone (the server's default unless the file set one): what the model is given.
    zone = conn.execute("SELECT current_setting('TimeZone')").fetchone()
    utc = zone is not None and str(zone[0]).lower() in locks.UTC_NAMES
    predicted = {nodes.display(effect.table): effect for effect in locks.predict(statement, catalog, version, utc)
                 if nodes.display(effect.table) in names}
    position = script.source.position(statement.start)
    trace = StatementTrace(position.line, position.column, _text(script, statement), duration, observed, rewritten,
                           {name: effect.mode for name, effect in predicted.items()},
                           sorted(name for name, effect in predicted.items() if effect.rewrites),
                           uncertain=sorted(name for name, effect in predicted.items() if not effect.certain))
    held_names = {(existing[oid][0], mode) for oid, mode in held_after if oid in existing}
    if statement.node_type != "DoStmt":  # a DO block's branches may or may not run: not compared
        trace.disagreements = _disagreements(trace, held_names)
    return trace


def _disagreements(trace: StatementTrace, held: set[tuple[str, str]]) -> list[str]:
    """Where the static model and the server differ, in words."""
    found = []
    floor = locks.rank(COMPARED_FROM)
    for name in sorted(set(trace.locks) | set(trace.predicted_locks)):
        seen = trace.locks.get(name)
        expected = trace.predicted_locks.get(name)
        seen_ranked = seen if seen is not None and locks.rank(seen) >= floor else None
        expected_ranked = expected if expected is not None and locks.rank(expected) >= floor else None
        if seen_ranked == expected_ranked:
            continue
        if seen_ranked is None and expected_ranked is not None and (name, expected_ranked) in held:
            continue  # already held from an earlier statement: PostgreSQL does not take it twice
        if seen_ranked is not None and expected_ranked is not None and locks.rank(seen_ranked) < locks.rank(expected_ranked) \
                and (name, expected_ranked) in held:
            continue
        found.append(f"{name}: the model predicts {_mode(expected)}, PostgreSQL took {_mode(seen)}")
    for name in sorted((set(trace.rewritten) ^ set(trace.predicted_rewrites)) - set(trace.uncertain)):
        said = "a rewrite" if name in trace.predicted_rewrites else "no rewrite"
        did = "rewrote it" if name in trace.rewritten else "did not rewrite it"
        found.append(f"{name}: the model predicts {said}, PostgreSQL {did}")
    return found


def _mode(mode: str | None) -> str:
    return locks.display_mode(mode) if mode else "no lock"


def _replay(catalog: Catalog, statement: Statement, script: Script) -> None:
    """Into the catalog, as the linter replays it: with the DDL inside DO blocks and function bodies."""
    from mobius_sqlcheck.plpgsql import embedded_statements

    from mobius_sqlcheck.lint.replay import Replayed, replay_statement

    replayed = Replayed([], set(), [])
    for each in [statement, *embedded_statements(statement, script.source)]:
        replay_statement(catalog, each, script.path, replayed)
    if replayed.failures:
        raise replayed.failures[0].error  # a catalog bug: the trace cannot go on without it


def _copies_from_client(statement: Statement) -> bool:
    node = statement.node
    return statement.node_type == "CopyStmt" and bool(node.get("is_from")) and not node.get("filename")


def _relations(conn: psycopg.Connection) -> dict[int, tuple[str, int]]:
    return {oid: (f"{schema}.{name}", node) for oid, schema, name, node in conn.execute(_RELATIONS).fetchall()}


def _statements(script: Script) -> list[Statement]:
    return parse_source(script.source).statements


def _text(script: Script, statement: Statement) -> str:
    return script.source.data[statement.start:statement.end].decode("utf-8")


def _error_text(error: psycopg.Error) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# ---------------------------------------------------------------------------
# --seed-rows

_SEEDABLE = """
    SELECT c.oid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod), t.typtype, a.atttypid::regtype::text
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type AS t ON t.oid = a.atttypid
    WHERE c.relkind = 'r' AND NOT c.relispartition AND n.nspname = 'public'
      AND a.attidentity = '' AND a.attgenerated = '' AND NOT a.atthasdef
    ORDER BY c.oid, a.attnum
"""


def seed(conn: psycopg.Connection, rows: int) -> list[str]:
    """Insert `rows` generated rows into every table of schema public; returns
    the tables it could not fill (a constraint the generated values break)."""
    columns: dict[str, list[str]] = {}
    values: dict[str, list[str]] = {}
    with conn.transaction():  # not left open: the migration's own transaction must start clean
        found = conn.execute(_SEEDABLE).fetchall()
    for table, column, type_text, typtype, type_name in found:
        columns.setdefault(table, []).append(f'"{column}"')
        values.setdefault(table, []).append(_value(type_text, typtype, type_name))
    failed = []
    for table, names in columns.items():
        sql = (f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values[table])} "
               f"FROM generate_series(1, {int(rows)}) AS g")
        try:
            with conn.transaction():
                conn.execute(sql)
        except psycopg.Error:
            failed.append(table)
    return failed


def _value(type_text: str, typtype: str, type_name: str) -> str:
    """A value per row `g` of a column's type, within its length where it has one."""
    base = type_text.split("(")[0]
    if type_text.endswith("[]"):
        return "'{}'"
    if typtype == "e":
        return f"(enum_range(NULL::{type_name}))[1]"
    if base in ("integer", "bigint", "smallint", "numeric", "real", "double precision"):
        return f"(g % 30000)::{type_name}" if base == "smallint" else f"g::{type_name}"
    if base in ("text", "character varying", "character", "citext"):
        return f"left('v' || g, {type_text.split('(')[1].rstrip(')')})" if "(" in type_text else "'v' || g"
    if base == "uuid":
        return "gen_random_uuid()"
    if base == "boolean":
        return "g % 2 = 0"
    if base.startswith("timestamp") or base == "date":
        return f"(now() - g * interval '1 minute')::{type_text}"
    if base in ("json", "jsonb"):
        return f"'{{}}'::{base}"
    return f"NULL::{type_text}"

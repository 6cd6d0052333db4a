"""Replaying a parsed migration into the catalog: the one loop every caller
uses (the lint pipeline, `verify`, the applier, the tests).

`replay(catalog, parsed, origin)` applies each statement in order and records
the objects created as made at `origin` (the path their findings point at).
A statement the catalog cannot replay is isolated: the replay goes on with
the next one and the failure is returned, so the caller reports it (the lint
pipeline as MSC004 at that statement) instead of losing it silently.
"""

from __future__ import annotations

from typing import NamedTuple

from mobius_sqlcheck.catalog import Catalog, ObjectRef, Origin
from mobius_sqlcheck.errors import OperationFailed
from mobius_sqlcheck.migrations import MigrationSet, version_key
from mobius_sqlcheck.parse import ParsedFile, Statement, parse_source
from mobius_sqlcheck.source import ReadProblem, read_source, section_of

class ReplayFailure(NamedTuple):
    """A statement the catalog could not replay, and why."""

    path: str
    statement: Statement
    error: Exception


class Replayed(NamedTuple):
    created: list[tuple[ObjectRef, Origin]]  # in creation order, with where each was created
    tables_created: set[tuple[str, str]]
    failures: list[ReplayFailure]


def replay(catalog: Catalog, parsed: ParsedFile, origin: str) -> Replayed:
    """Replay every statement of `parsed` into `catalog` (changed in place)."""
    result = Replayed([], set(), [])
    for statement in parsed.statements:
        replay_statement(catalog, statement, origin, result)
    return result


def replay_statement(catalog: Catalog, statement: Statement, origin: str, into: Replayed) -> None:
    """Replay one statement, adding what it created (or its failure) to
    `into`: the lint pipeline runs the statement rules between two calls, on
    the catalog as it stood before their statement."""
    try:
        refs = catalog.apply(statement, origin)
    except Exception as error:  # noqa: BLE001 - a catalog bug must not stop the replay
        into.failures.append(ReplayFailure(origin, statement, error))
        return
    for ref in refs:
        if ref.kind == "table":
            into.tables_created.add(ref.relation())
        into.created.append((ref, catalog.origin_of(ref) or Origin(origin, statement.start)))


class HistoryError(OperationFailed):
    """The applied history cannot be replayed: a file unreadable, or a
    statement the catalog failed on (what it expects would be wrong)."""


def replay_history(migration_set: MigrationSet, upto: str | None = None) -> Catalog:
    """The catalog after every forward migration (up to version `upto`), for
    the applier (`verify`): a history it cannot replay is an error, never a
    silently smaller catalog."""
    catalog = Catalog()
    for forward in migration_set.forwards:
        if upto is not None and forward.version_key > version_key(upto):
            break
        source = read_source(forward.path)
        if isinstance(source, ReadProblem):
            raise HistoryError(f"{forward.path}: {source.message}")
        if forward.is_section:  # a dbmate file replays its up section only
            source = section_of(source, forward.start, forward.end)
        replayed = replay(catalog, parse_source(source), forward.path)
        for failure in replayed.failures:
            where = source.position(failure.statement.start)
            raise HistoryError(f"{forward.path}:{where.line}:{where.column}: the catalog could not replay this "
                               f"statement: {type(failure.error).__name__}: {failure.error}")
    return catalog

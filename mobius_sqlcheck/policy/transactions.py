"""What may run in or outside a transaction (MSC503 transaction control,
MSC504 needs-no-transaction).

The applier runs a normal file in one transaction, with its record; a file
whose first line is the no-transaction marker runs statement by statement,
each committing on its own, so every statement in it must be one that cannot
run in a transaction, and must be safe to run again (a failed run is retried
from the top).
"""

from __future__ import annotations

import json
from typing import Iterator

from pglast import Error as PglastError
from pglast import parser as pg_parser

from mobius_sqlcheck import nodes
from mobius_sqlcheck.parse import Statement
from mobius_sqlcheck.source import SourceFile

from mobius_sqlcheck.policy.base import (  # noqa: F401 - MOVE_OUT_HINT: the default, re-exported
    DIRECTIVE, MOVE_OUT_HINT, NEEDS_NO_TRANSACTION, TRANSACTION_CONTROL, FileView, PolicyProblem
)


# -- transaction control (MSC503) -----------------------------------------------------

_MESSAGES = {
    "TRANS_STMT_BEGIN": "BEGIN inside a migration: the applier already runs the file in a transaction, and the "
                        "COMMIT that goes with it ends that transaction early",
    "TRANS_STMT_START": "START TRANSACTION inside a migration: the applier already runs the file in a "
                        "transaction, and the COMMIT that goes with it ends that transaction early",
    "TRANS_STMT_COMMIT": "COMMIT inside a migration ends the applier's transaction early: what follows runs "
                         "outside it, and a later failure leaves the file half applied and unrecorded",
    "TRANS_STMT_ROLLBACK": "ROLLBACK inside a migration throws away the applier's transaction, with its record "
                           "of the migration",
    "TRANS_STMT_PREPARE": "PREPARE TRANSACTION inside a migration hands the applier's transaction to two-phase "
                          "commit",
    "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED cannot run inside the applier's transaction",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED cannot run inside the applier's transaction",
}
_PLPGSQL_ENDINGS = {"PLpgSQL_stmt_commit": "COMMIT", "PLpgSQL_stmt_rollback": "ROLLBACK"}




def transaction_control(statement: Statement, no_transaction: bool) -> Iterator[PolicyProblem]:
    """BEGIN, COMMIT, ROLLBACK and the two-phase statements, or COMMIT /
    ROLLBACK in a PL/pgSQL DO block. Savepoints stay inside the transaction."""
    hint = _NO_TRANSACTION_HINT if no_transaction else None
    if statement.node_type == "TransactionStmt":
        message = _MESSAGES.get(statement.node.get("kind", ""))
        if message is not None:
            if no_transaction:
                message = _IN_NO_TRANSACTION_FILE.get(statement.node.get("kind", ""), message)
            yield PolicyProblem(TRANSACTION_CONTROL, statement.start, message, hint)
        return
    if statement.node_type != "DoStmt":
        return
    ending = _do_block_ending(statement.node)
    if ending is None:
        return
    if no_transaction:
        message = (f"{ending} inside a DO block ends part of the block's work early: a failure after it leaves the "
                   "block half done, and the retry from the top of this no-transaction file runs it again")
    else:
        message = (f"{ending} inside a DO block: PostgreSQL raises 'invalid transaction termination' when the "
                   "block runs inside a transaction block, and the applier runs this file in one")
    yield PolicyProblem(TRANSACTION_CONTROL, statement.start, message, hint)


_NO_TRANSACTION_HINT = ("Remove it: in a no-transaction file each statement already commits on its own; work that "
                        "must commit together belongs in a normal migration.")
_IN_NO_TRANSACTION_FILE = {
    "TRANS_STMT_BEGIN": "BEGIN in a no-transaction file opens a transaction on a pooled connection that the "
                        "statements after it may not even run on",
    "TRANS_STMT_START": "START TRANSACTION in a no-transaction file opens a transaction on a pooled connection "
                        "that the statements after it may not even run on",
}


def _do_block_ending(node: dict) -> str | None:
    """COMMIT or ROLLBACK in a PL/pgSQL DO block, if any."""
    body, language = None, "plpgsql"
    for element in nodes.def_elems(node.get("args")):
        if element.get("defname") == "as":
            body = element.get("arg", {}).get("String", {}).get("sval")
        elif element.get("defname") == "language":
            language = element.get("arg", {}).get("String", {}).get("sval", "").lower()
    lowered = (body or "").lower()
    if language != "plpgsql" or ("commit" not in lowered and "rollback" not in lowered):
        return None
    wrapped = f"CREATE FUNCTION mobius_do() RETURNS void LANGUAGE plpgsql AS $mobius_body${body}$mobius_body$"
    try:
        tree = json.loads(pg_parser.parse_plpgsql_json(wrapped))
    except (PglastError, ValueError):
        return None
    for node_type, _ in nodes.walk(tree):
        if node_type in _PLPGSQL_ENDINGS:
            return _PLPGSQL_ENDINGS[node_type]
    return None


# -- statements that cannot run in a transaction (MSC504) ------------------------------


def _is_query(statement: Statement) -> bool:
    """A plain SELECT (no INTO, no row locks): it changes no schema and
    re-running it after a partial failure is harmless, so a no-transaction
    file may hold one (e.g. a progress check between two index builds)."""
    node = statement.node
    return (statement.node_type == "SelectStmt" and "intoClause" not in node
            and "lockingClause" not in node)


def transaction_fit(statement: Statement, view: FileView) -> Iterator[PolicyProblem]:
    """A statement PostgreSQL refuses in a transaction, in a normal file; an
    ordinary or non-idempotent statement in a no-transaction file; a new enum
    value used in the file that adds it."""
    if statement.node_type == "TransactionStmt":
        return  # transaction control's business
    what = non_transactional(statement.node_type, statement.node)
    if not view.no_transaction:
        if what is not None:
            yield PolicyProblem(
                NEEDS_NO_TRANSACTION, statement.start,
                f"{what} cannot run inside a transaction block, and the applier runs this file in one",
                view.move_out_hint)
        elif statement.node_type == "AlterEnumStmt":
            yield from _new_enum_value_used(statement, view)
        return
    if what is None:
        if not _is_query(statement):
            yield PolicyProblem(
                NEEDS_NO_TRANSACTION, statement.start,
                f"{_statement_words(statement, view.source)} in a no-transaction file: each statement commits on "
                "its own, so a failure leaves the file half applied",
                "Move it to a normal migration; keep only statements that cannot run in a transaction here.")
        return
    problem = _not_idempotent(statement, view.statements)
    if problem is not None:
        yield PolicyProblem(NEEDS_NO_TRANSACTION, statement.start,
                            f"{what} {problem}: a failed run is retried from the top of this no-transaction file")


def non_transactional(node_type: str, node: dict) -> str | None:
    """What the statement is, if PostgreSQL refuses it in a transaction block."""
    if node_type == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if node_type == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY"
    if node_type == "ReindexStmt":
        return _reindex(node)
    if node_type == "VacuumStmt":
        return "VACUUM" if node.get("is_vacuumcmd") else None  # ANALYZE alone is fine
    if node_type == "ClusterStmt":
        return None if node.get("relation") else "CLUSTER of every table"
    if node_type == "AlterTableStmt":
        return _detach_concurrently(node)
    if node_type == "AlterDatabaseStmt":
        tablespace = any(e.get("defname") == "tablespace" for e in nodes.def_elems(node.get("options")))
        return "ALTER DATABASE ... SET TABLESPACE" if tablespace else None
    if node_type == "DiscardStmt":
        return "DISCARD ALL" if node.get("target") == "DISCARD_ALL" else None
    if node_type == "CreateSubscriptionStmt":
        return "CREATE SUBSCRIPTION" if _creates_slot(node) else None
    return _ALWAYS.get(node_type)


_ALWAYS = {
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "AlterSystemStmt": "ALTER SYSTEM",
}


def _reindex(node: dict) -> str | None:
    if any(e.get("defname") == "concurrently" for e in nodes.def_elems(node.get("params"))):
        return "REINDEX CONCURRENTLY"
    kind = node.get("kind", "")
    if kind in ("REINDEX_OBJECT_SCHEMA", "REINDEX_OBJECT_DATABASE", "REINDEX_OBJECT_SYSTEM"):
        return f"REINDEX {kind.removeprefix('REINDEX_OBJECT_')}"
    return None


def _detach_concurrently(node: dict) -> str | None:
    for item in node.get("cmds", ()):
        command = item.get("AlterTableCmd", {})
        if command.get("subtype") == "AT_DetachPartition" and command.get("def", {}).get(
                "PartitionCmd", {}).get("concurrent"):
            return "DETACH PARTITION ... CONCURRENTLY"
    return None


def _creates_slot(node: dict) -> bool:
    for element in nodes.def_elems(node.get("options")):
        if element.get("defname") in ("create_slot", "connect"):
            value = nodes.const_value(element.get("arg"))
            if value is False or (isinstance(value, str) and value.lower() in ("false", "off", "0")):
                return False
    return True


# -- in a no-transaction file ------------------------------------------------------


def _not_idempotent(statement: Statement, statements: list[Statement]) -> str | None:
    """Why running this statement a second time fails, or None."""
    node_type, node = statement.node_type, statement.node
    if node_type == "IndexStmt":
        if not node.get("idxname"):
            return "without a name (each run creates another index)"
        if node.get("if_not_exists") or _dropped_before(statement, statements, node["idxname"]):
            return None
        return "without IF NOT EXISTS"
    if node_type in ("DropStmt", "DropdbStmt", "DropTableSpaceStmt"):
        return None if node.get("missing_ok") else "without IF EXISTS"
    if node_type in ("CreatedbStmt", "CreateTableSpaceStmt", "CreateSubscriptionStmt"):
        return "has no IF NOT EXISTS, so it fails when re-run"
    if node_type == "AlterTableStmt":
        return "fails when re-run (the partition is already detached)"
    return None


def _dropped_before(statement: Statement, statements: list[Statement], index_name: str) -> bool:
    """An earlier DROP INDEX CONCURRENTLY IF EXISTS of the same index makes
    the CREATE safe to re-run."""
    for other in statements[:statement.index]:
        if other.node_type == "DropStmt" and other.node.get("missing_ok") \
                and other.node.get("removeType") == "OBJECT_INDEX":
            for item in other.node.get("objects", ()):
                if nodes.names(item.get("List", {}).get("items"))[-1:] == [index_name]:
                    return True
    return False


def _statement_words(statement: Statement, source: SourceFile) -> str:
    """The statement's first two words, e.g. `CREATE TABLE`."""
    head = source.data[statement.start:statement.start + 60].decode("utf-8", "replace")
    return " ".join(head.split()[:2]).upper().rstrip(";")


# -- ALTER TYPE ... ADD VALUE ---------------------------------------------------------


def _new_enum_value_used(statement: Statement, view: FileView) -> Iterator[PolicyProblem]:
    value = statement.node.get("newVal")
    if not value:
        return  # RENAME VALUE
    key = nodes.qualified(nodes.names(statement.node.get("typeName")))
    literal = ("'" + value.replace("'", "''") + "'").encode("utf-8")
    for later in view.statements[statement.index + 1:]:
        if literal in view.source.data[later.start:later.end]:
            line = view.source.position(later.start).line
            yield PolicyProblem(
                NEEDS_NO_TRANSACTION, statement.start,
                f"enum value {literal.decode()} added to {nodes.display(key)} is used later in this file "
                f"(line {line}), before the transaction that adds it commits: PostgreSQL refuses that",
                "Use the new value in a later migration.")
            return

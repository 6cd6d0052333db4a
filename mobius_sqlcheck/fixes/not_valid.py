"""MSC308: `ADD CONSTRAINT ... FOREIGN KEY / CHECK` on an existing table ->
`... NOT VALID` here and `VALIDATE CONSTRAINT` in a new later migration.

NOT VALID skips the scan of existing rows under the strong lock (new rows
are checked at once); VALIDATE CONSTRAINT scans them later under a lock
that lets reads and writes go on. The later migration must name the
constraint, so an unnamed one is given the name PostgreSQL would choose
(`<table>_<columns>_fkey`, `<table>_<column>_check`). Offered when the
constraint is the statement's last command (so `NOT VALID` goes at the
statement's end).
"""

from __future__ import annotations

import os

from mobius_sqlcheck.fixes.base import Edit, Fix, FixContext, new_migration, quote_identifier, relation_sql
from mobius_sqlcheck.layouts import Script

_VALIDATABLE = ("CONSTR_FOREIGN", "CONSTR_CHECK")


def fixes(context: FixContext) -> list[Fix]:
    statement = context.statement
    if statement is None or statement.node_type != "AlterTableStmt":
        return []
    commands = [item.get("AlterTableCmd", {}) for item in statement.node.get("cmds", ())]
    if not commands:
        return []
    constraint = commands[-1].get("def", {}).get("Constraint", {})
    if (commands[-1].get("subtype") != "AT_AddConstraint" or constraint.get("contype") not in _VALIDATABLE
            or constraint.get("skip_validation")):
        return []
    at = statement.offset(constraint.get("location", -1))
    if at != context.offset:
        return []
    relation = statement.node.get("relation", {})
    table = relation_sql(relation)
    edits = []
    name = constraint.get("conname")
    if not name:
        name = _default_name(relation.get("relname", ""), constraint)
        edits.append(Edit(context.source.path, context.char(at), context.char(at), f"CONSTRAINT {quote_identifier(name)} "))
    end = context.char(statement.end)
    edits.append(Edit(context.source.path, end, end, " NOT VALID"))
    validate = Script(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote_identifier(name)};\n")
    undo = Script(f"-- Nothing to undo: VALIDATE CONSTRAINT only checked the rows already in {table}.\nSELECT 1;\n")
    made = new_migration(context, f"validate_{name}", validate, undo)
    if made is None:
        return []
    more_edits, new_files = made
    shown = os.path.relpath(new_files[0].path, context.migration_set.directory if context.migration_set else ".")
    return [Fix(f"Add {name} NOT VALID, validate it in a new migration ({shown})",
                context.code, (*edits, *more_edits), new_files, mechanical=True)]


def _default_name(table: str, constraint: dict) -> str:
    """The name PostgreSQL gives an unnamed constraint (before truncation and
    collision suffixes, which a migration should not rely on anyway)."""
    if constraint.get("contype") == "CONSTR_FOREIGN":
        columns = [item["String"]["sval"] for item in constraint.get("fk_attrs", ()) if "String" in item]
        return "_".join([table, *columns, "fkey"])
    column = _first_column(constraint.get("raw_expr"))
    return "_".join([table, column, "check"] if column else [table, "check"])


def _first_column(node: object) -> str | None:
    if isinstance(node, dict):
        if "ColumnRef" in node:
            fields = node["ColumnRef"].get("fields", ())
            names = [f["String"]["sval"] for f in fields if isinstance(f, dict) and "String" in f]
            return names[-1] if names else None
        for value in node.values():
            found = _first_column(value)
            if found:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _first_column(value)
            if found:
                return found
    return None

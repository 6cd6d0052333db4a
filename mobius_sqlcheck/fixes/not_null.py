"""MSC301: `ADD COLUMN ... NOT NULL` without a default, added nullable.

The column's `NOT NULL` (or `PRIMARY KEY`, which implies it) is removed and a
comment above the statement says what is left to do: backfill the column,
then set NOT NULL (or add the primary key) in a later migration, the safe
way MSC303 describes. What the statement adds is otherwise unchanged.
"""

from __future__ import annotations

import re

from mobius_sqlcheck.fixes.base import Edit, Fix, FixContext, indentation, line_start, relation_sql

# The constraint's text at its location: optional `CONSTRAINT name`, then the keywords.
_CONSTRAINT_TEXT = {
    "CONSTR_NOTNULL": re.compile(r'(?:CONSTRAINT\s+(?:"[^"]*"|\S+)\s+)?NOT\s+NULL\b', re.IGNORECASE),
    "CONSTR_PRIMARY": re.compile(r'(?:CONSTRAINT\s+(?:"[^"]*"|\S+)\s+)?PRIMARY\s+KEY\b', re.IGNORECASE),
}


def fixes(context: FixContext) -> list[Fix]:
    statement = context.statement
    if statement is None or statement.node_type != "AlterTableStmt":
        return []
    node = statement.node
    for item in node.get("cmds", ()):
        command = item.get("AlterTableCmd", {})
        column = command.get("def", {}).get("ColumnDef")
        if command.get("subtype") != "AT_AddColumn" or column is None:
            continue
        if statement.offset(column.get("location", -1)) != context.offset:
            continue
        edits = _removals(context, column)
        if edits is None:
            return []
        name = column.get("colname", "")
        table = relation_sql(node.get("relation", {}))
        primary = any(c.get("Constraint", {}).get("contype") == "CONSTR_PRIMARY" for c in column.get("constraints", ()))
        then = (f"ALTER TABLE {table} ADD PRIMARY KEY ({name})" if primary
                else f"ALTER TABLE {table} ALTER COLUMN {name} SET NOT NULL")
        at = line_start(context.text, context.char(statement.start))
        comment = (f"{indentation(context.text, at)}-- TODO: backfill {table}.{name}, then in a later migration: "
                   f"{then} (see MSC303 for doing it without a long lock)\n")
        return [Fix(f"Add column {name} nullable, backfill it later", context.code,
                    (Edit(context.source.path, at, at, comment), *edits), mechanical=True)]
    return []


def _removals(context: FixContext, column: dict) -> list[Edit] | None:
    """Edits removing the column's NOT NULL / PRIMARY KEY text (with the
    blanks before it); None when the text is not where the parser says."""
    edits = []
    for item in column.get("constraints", ()):
        constraint = item.get("Constraint", {})
        pattern = _CONSTRAINT_TEXT.get(constraint.get("contype", ""))
        if pattern is None:
            continue
        start = context.char(context.statement.offset(constraint.get("location", -1)))  # type: ignore[union-attr]
        match = pattern.match(context.text, start)
        if match is None:
            return None
        blank = len(context.text[:start]) - len(context.text[:start].rstrip(" \t"))
        edits.append(Edit(context.source.path, start - blank, match.end(), ""))
    return edits or None

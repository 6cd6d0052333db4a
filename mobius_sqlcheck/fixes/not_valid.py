"""MSC308: `ADD CONSTRAINT ... FOREIGN KEY / CHECK` on an existing table ->
`... NOT VALID` here and `VALIDATE CONSTRAINT` in a new later migration.

NOT VALID skips the scan of existing rows under the strong lock (new rows
are checked at once); VALIDATE CONSTRAINT scans them later under a lock
that lets reads and writes go on. Offered when the constraint has a name
(the later migration must name it) and is the statement's last command (so
`NOT VALID` goes at the statement's end).
"""

from __future__ import annotations

from mobius_sqlcheck.fixes.base import Edit, Fix, FixContext, NewFile, new_migration_path, quote_identifier, relation_sql

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
            or constraint.get("skip_validation") or not constraint.get("conname")):
        return []
    if statement.offset(constraint.get("location", -1)) != context.offset:
        return []
    name = constraint["conname"]
    table = relation_sql(statement.node.get("relation", {}))
    end = context.char(statement.end)
    new_path = new_migration_path(context, f"validate_{name}")
    validate = f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote_identifier(name)};\n"
    return [Fix(f"Add {name} NOT VALID, validate it in a new migration ({new_path.rsplit('/', 1)[-1]})",
                context.code, (Edit(context.source.path, end, end, " NOT VALID"),),
                (NewFile(new_path, validate),), mechanical=True)]

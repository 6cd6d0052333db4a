"""MSC306: `CREATE INDEX` / `REINDEX` on an existing table -> `... CONCURRENTLY`.

CONCURRENTLY cannot run in a transaction, so the file needs the
no-transaction marker as its first line, and every statement of such a file
must be one that cannot run in a transaction and is safe to run again
(`IF NOT EXISTS` is added to a named index for that). So:

- a file holding only index builds is rewritten in place, marker added;
- otherwise the statement moves to a new migration after every other one,
  with the marker (offered in the editor for any file, as the second action).

Not offered for DDL inside a DO block or a function body: it runs in the
caller's transaction, where CONCURRENTLY is refused.
"""

from __future__ import annotations

import re

from mobius_sqlcheck.fixes.base import Edit, Fix, FixContext, NewFile, new_migration_path, statement_with_terminator
from mobius_sqlcheck.migrations import NO_TRANSACTION_DIRECTIVE
from mobius_sqlcheck.parse import Statement
from mobius_sqlcheck.policy.base import DIRECTIVE

_HEADS = {
    "IndexStmt": re.compile(r"CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.IGNORECASE),
    "ReindexStmt": re.compile(r"REINDEX\s+(?:\([^)]*\)\s*)?(?:INDEX|TABLE|SCHEMA|DATABASE|SYSTEM)\b", re.IGNORECASE),
}


def _is_concurrent(statement: Statement) -> bool:
    if statement.node_type == "IndexStmt":
        return bool(statement.node.get("concurrent"))
    return any(item.get("DefElem", {}).get("defname") == "concurrently" for item in statement.node.get("params", ()))


def fixes(context: FixContext) -> list[Fix]:
    statement = context.statement
    if statement is None or statement.node_type not in _HEADS or _is_concurrent(statement):
        return []
    if statement.start != context.offset:
        return []  # the finding is on DDL inside this statement (a DO block, a function body)
    rewritten = _concurrent_text(context, statement)
    if rewritten is None:
        return []
    found = []
    if _only_index_builds(context):
        found.append(_in_place(context, statement, rewritten))
    found.append(_moved(context, statement, rewritten, mechanical=not found))
    return found


def marker() -> str:
    """The no-transaction marker line of the directory's layout."""
    return DIRECTIVE


def _concurrent_text(context: FixContext, statement: Statement) -> str | None:
    start, end = context.char(statement.start), context.char(statement.end)
    text = context.text[start:end]
    head = _HEADS[statement.node_type].match(text)
    if head is None:
        return None
    insert = " CONCURRENTLY"
    if statement.node_type == "IndexStmt" and statement.node.get("idxname") and not statement.node.get("if_not_exists"):
        insert += " IF NOT EXISTS"  # a no-transaction file is run again from the top after a failure
    return text[:head.end()] + insert + text[head.end():]


def _only_index_builds(context: FixContext) -> bool:
    return all(s.node_type in _HEADS for s in context.parsed.statements)


def _in_place(context: FixContext, statement: Statement, rewritten: str) -> Fix:
    path = context.source.path
    start, end = context.char(statement.start), context.char(statement.end)
    edits = [Edit(path, start, end, rewritten)]
    if not NO_TRANSACTION_DIRECTIVE.match(context.text.split("\n", 1)[0]):
        edits.append(Edit(path, 0, 0, marker() + "\n"))
    return Fix("Build the index CONCURRENTLY (marks the file no-transaction)", context.code, tuple(edits), mechanical=True)


def _moved(context: FixContext, statement: Statement, rewritten: str, mechanical: bool) -> Fix:
    start, end = statement_with_terminator(context, statement)
    name = statement.node.get("idxname") or statement.node.get("relation", {}).get("relname") or "index"
    new_path = new_migration_path(context, f"concurrent_{name}")
    new_text = f"{marker()}\n{rewritten};\n"
    return Fix(f"Move the index build to a new migration, CONCURRENTLY ({new_path.rsplit('/', 1)[-1]})",
               context.code, (Edit(context.source.path, start, end, ""),), (NewFile(new_path, new_text),),
               mechanical=mechanical)

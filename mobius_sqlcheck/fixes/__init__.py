"""Mechanical rewrites for findings, shared by the editor's code actions and
`lint --fix`.

A fix is data: text edits (character offsets into one file's text) and new
migration files. Nothing here writes to disk; `apply` does, for `lint --fix`.

- `suppress`: a suppression comment with a reason placeholder (any rule);
- `not_null`: MSC301, the column added nullable with a backfill comment;
- `concurrent_index`: MSC306, `CREATE INDEX CONCURRENTLY` in a no-transaction
  file (in place, or moved to a new later migration);
- `not_valid`: MSC308, `NOT VALID` here and `VALIDATE CONSTRAINT` in a new
  later migration.
"""

from __future__ import annotations

from mobius_sqlcheck.fixes.base import Edit, Fix, FixContext, NewFile, apply_edits

__all__ = ["Edit", "Fix", "FixContext", "NewFile", "apply_edits", "fixes_for"]


def fixes_for(context: FixContext) -> list[Fix]:
    """Every fix for the finding of `context`: the rule's rewrites first
    (mechanical ones before the others), then the suppression comment."""
    from mobius_sqlcheck.fixes import concurrent_index, not_null, not_valid, suppress

    rewrites = {"MSC301": not_null.fixes, "MSC306": concurrent_index.fixes, "MSC308": not_valid.fixes}
    found: list[Fix] = []
    rewrite = rewrites.get(context.code)
    if rewrite is not None and context.statement is not None:
        found.extend(rewrite(context))
    if context.code != "MSC004":  # a crash is never suppressed
        found.append(suppress.fix(context))
    return found

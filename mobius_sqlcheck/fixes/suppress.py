"""A suppression comment for any finding, with a reason to fill in.

The comment goes on its own line above the statement (`ignore` covers the
next statement); a finding outside any statement gets `ignore-file` at the
top, after the no-transaction marker, which must stay the first line.
"""

from __future__ import annotations

from mobius_sqlcheck.fixes.base import Edit, Fix, FixContext, indentation, line_start
from mobius_sqlcheck.migrations import NO_TRANSACTION_DIRECTIVE

REASON_PLACEHOLDER = "TODO: why this is safe here"


def fix(context: FixContext) -> Fix:
    text = context.text
    if context.statement is not None and context.statement_scope:
        at = line_start(text, context.char(context.statement.start))
        comment = f"{indentation(text, at)}-- mobius-sqlcheck: ignore {context.code}  {REASON_PLACEHOLDER}\n"
        title = f"Suppress {context.code} for this statement"
    else:
        first_line = text.split("\n", 1)[0]
        at = len(first_line) + 1 if NO_TRANSACTION_DIRECTIVE.match(first_line) and "\n" in text else 0
        comment = f"-- mobius-sqlcheck: ignore-file {context.code}  {REASON_PLACEHOLDER}\n"
        title = f"Suppress {context.code} for this file"
    return Fix(title, context.code, (Edit(context.source.path, at, at, comment),))

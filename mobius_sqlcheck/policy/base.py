"""What every part of the policy reports and reads."""

from __future__ import annotations

from typing import NamedTuple

from mobius_sqlcheck.parse import Statement
from mobius_sqlcheck.source import SourceFile

SESSION_STATE = "MSC502"
TRANSACTION_CONTROL = "MSC503"
NEEDS_NO_TRANSACTION = "MSC504"
DIRECTIVE = "-- mobius-sqlcheck: no-transaction"
# Where a statement that cannot run in a transaction goes, in our applier's terms;
# a lint run in another tool's layout says that tool's way (FileView.move_out_hint).
MOVE_OUT_HINT = f"Move it to its own migration file marked {DIRECTIVE}, with IF [NOT] EXISTS so that a retry can re-run it."


class PolicyProblem(NamedTuple):
    code: str  # the rule that reports it: one of the three codes above
    offset: int  # byte offset in the file
    message: str
    hint: str | None = None  # None: the rule's own hint


class FileView(NamedTuple):
    """What the policy reads of a file: its text, its statements, its marker,
    and how its tool runs a statement outside a transaction (for hints)."""

    source: SourceFile
    statements: list[Statement]
    no_transaction: bool
    move_out_hint: str = MOVE_OUT_HINT

"""One policy for what a migration may do through a transaction pooler,
read by the rules (MSC502 session state, MSC503 transaction control, MSC504
needs-no-transaction) and by the applier, which refuses exactly what they
report before running anything: `lint` passing and `apply` accepting a file
are the same thing (tests/test_policy.py)."""

from __future__ import annotations

from mobius_sqlcheck.policy.base import (
    DIRECTIVE,
    NEEDS_NO_TRANSACTION,
    SESSION_STATE,
    TRANSACTION_CONTROL,
    FileView,
    PolicyProblem,
)
from mobius_sqlcheck.policy.session import mentions_calls, session_state
from mobius_sqlcheck.policy.transactions import non_transactional, transaction_control, transaction_fit

__all__ = ["DIRECTIVE", "NEEDS_NO_TRANSACTION", "SESSION_STATE", "TRANSACTION_CONTROL", "FileView",
           "PolicyProblem", "file_problems", "mentions_calls", "non_transactional", "session_state",
           "transaction_control", "transaction_fit"]


def file_problems(view: FileView) -> list[PolicyProblem]:
    """Every problem of the file, in statement order: what the applier refuses."""
    problems: list[PolicyProblem] = []
    file_mentions_calls = mentions_calls(view.source.data)
    for statement in view.statements:
        problems.extend(session_state(statement, view.source, file_mentions_calls))
        problems.extend(transaction_control(statement, view.no_transaction))
        problems.extend(transaction_fit(statement, view))
    return problems

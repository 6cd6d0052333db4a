"""Former home of the lint pipeline, now `mobius_sqlcheck.lint`: these names
stay importable from here for code written against it (other branches in
flight); new code imports from `mobius_sqlcheck.lint`."""

from __future__ import annotations

from mobius_sqlcheck.diagnostics import LintResult
from mobius_sqlcheck.lint.pipeline import lint_paths
from mobius_sqlcheck.lint.replay import HistoryError, replay_history

__all__ = ["HistoryError", "LintResult", "lint_paths", "replay_history"]

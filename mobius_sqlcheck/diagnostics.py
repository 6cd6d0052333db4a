"""What rules report (Finding), what users see (Diagnostic) and what a run
returns (LintResult)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


def redacted(text: str) -> str:
    """`text` with any password of a connection string masked (`***`): a
    syntax error quotes the SQL, an internal error quotes an exception, a
    usage error quotes an argument, and any of them may hold one."""
    lowered = text.lower()
    if "://" not in lowered and "password" not in lowered:
        return text  # cheap, and connstr is imported only when needed
    from mobius_sqlcheck.connstr import redact

    return redact(text)


class Finding(NamedTuple):
    """A rule's report. `start`/`end` are byte offsets into the file at `path`
    (the file being checked when `path` is None)."""

    message: str
    start: int = 0
    end: int | None = None
    hint: str | None = None
    path: str | None = None


class Diagnostic(NamedTuple):
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str
    name: str
    severity: str  # "error" or "warning"
    message: str
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.rule)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


class LintResult:
    """What one lint run found, with the rule registry it ran (the SARIF
    report describes those rules)."""

    def __init__(self, diagnostics: list[Diagnostic] | None = None, files: int = 0, internal_errors: int = 0,
                 rules: Mapping[str, Any] | None = None, layouts: Mapping[str, str] | None = None,
                 dialect_skipped: int = 0) -> None:
        self.diagnostics: list[Diagnostic] = diagnostics or []
        self.files = files
        self.internal_errors = internal_errors
        if rules is None:
            from mobius_sqlcheck.rules import all_rules

            rules = all_rules()
        self.rules: Mapping[str, Any] = rules  # code -> Rule: the registry the run used
        self.notices: list[str] = []  # one line each, for stderr (e.g. a cache that cannot be written)
        self.layouts: dict[str, str] = dict(layouts or {})  # migrations directory -> the layout in force
        self.dialect_skipped = dialect_skipped  # another database's variants of migrations, skipped by name

    @property
    def layout(self) -> str | None:
        """The layout in force, when every migrations directory linted has the same one."""
        found = set(self.layouts.values())
        return found.pop() if len(found) == 1 else None

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")

    @property
    def warning_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "warning")

"""What rules report (Finding) and what users see (Diagnostic)."""

from __future__ import annotations

from typing import NamedTuple


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

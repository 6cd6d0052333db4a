"""GitHub Actions workflow commands: one annotation per diagnostic."""

from __future__ import annotations

from mobius_sqlcheck.diagnostics import LintResult


def render(result: LintResult, colour: bool = False) -> str:
    lines = []
    for d in result.diagnostics:
        level = "error" if d.severity == "error" else "warning"
        properties = (f"file={_property(d.path)},line={d.line},col={d.column},"
                      f"endLine={d.end_line},endColumn={d.end_column},title={_property(d.rule + ' ' + d.name)}")
        message = d.message + (f"\n{d.hint}" if d.hint else "")
        lines.append(f"::{level} {properties}::{_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _data(text: str) -> str:
    # Escaping as defined by the Actions toolkit (issueCommand).
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")

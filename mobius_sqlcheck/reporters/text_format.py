"""`path:line:col: MSC301 message`, then an indented hint; colour on a tty."""

from __future__ import annotations

from mobius_sqlcheck.diagnostics import LintResult

_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "bold": "\033[1m", "dim": "\033[2m", "reset": "\033[0m"}


def render(result: LintResult, colour: bool = False) -> str:
    paint = _painter(colour)
    lines = []
    for diagnostic in result.diagnostics:
        where = paint("bold", f"{diagnostic.path}:{diagnostic.line}:{diagnostic.column}:")
        code = paint(diagnostic.severity, diagnostic.rule)
        lines.append(f"{where} {code} {diagnostic.message}")
        if diagnostic.hint:
            lines.append(paint("dim", f"    hint: {diagnostic.hint}"))
    lines.append(_summary(result))
    return "\n".join(lines) + "\n"


def _summary(result: LintResult) -> str:
    errors, warnings = result.error_count, result.warning_count
    if not errors and not warnings:
        return f"{_plural(result.files, 'file')} checked, no problems{_layouts(result)}"
    return (f"{_plural(result.files, 'file')} checked: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
            f"{_layouts(result)}")


def _layouts(result: LintResult) -> str:
    """Which layout was in force (detected or configured), and what it skipped."""
    if not result.layouts:
        return ""
    names = sorted(set(result.layouts.values()))
    text = f" ({', '.join(names)} layout{'' if len(names) == 1 else 's'}"
    if result.dialect_skipped:
        text += f"; {_plural(result.dialect_skipped, 'other-database variant')} skipped"
    return text + ")"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _painter(colour: bool):
    def paint(style: str, text: str) -> str:
        return f"{_COLOURS[style]}{text}{_COLOURS['reset']}" if colour else text

    return paint

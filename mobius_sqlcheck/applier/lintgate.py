"""Lint before apply: the applier refuses to run migrations the linter rejects."""

from __future__ import annotations

from mobius_sqlcheck.config import Config

MAX_SHOWN = 20


def lint_errors(config: Config, directory: str) -> list[str]:
    """`path:line:col: RULE message` for every error-level finding in the migrations."""
    from mobius_sqlcheck.lint import lint_paths  # the linter; imported only when applying

    result = lint_paths([directory], config)
    return [
        f"{d.path}:{d.line}:{d.column}: {d.rule} {d.message}"
        for d in result.diagnostics
        if d.severity == "error"
    ]


def refusal_message(errors: list[str]) -> str:
    shown = errors[:MAX_SHOWN]
    more = f"\n  ... and {len(errors) - MAX_SHOWN} more" if len(errors) > MAX_SHOWN else ""
    return (
        f"the linter found {len(errors)} error(s) in the migrations; fix them, "
        "or pass --skip-lint to apply anyway:\n  " + "\n  ".join(shown) + more
    )

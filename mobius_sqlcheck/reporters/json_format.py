"""The JSON contract of ../shared/rules.md: one object, stable keys."""

from __future__ import annotations

import json

from mobius_sqlcheck import __version__
from mobius_sqlcheck.diagnostics import LintResult


def render(result: LintResult, colour: bool = False) -> str:
    document = {
        "version": __version__,
        "diagnostics": [diagnostic.as_dict() for diagnostic in result.diagnostics],
        "summary": {"files": result.files, "errors": result.error_count, "warnings": result.warning_count},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

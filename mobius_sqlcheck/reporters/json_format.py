"""The JSON contract (docs/rules.md, README "Usage"): one object, stable keys."""

from __future__ import annotations

from typing import Any

import orjson

from mobius_sqlcheck import __version__
from mobius_sqlcheck.diagnostics import LintResult


def render(result: LintResult, colour: bool = False) -> str:
    document: dict[str, Any] = {
        "version": __version__,
        "diagnostics": [diagnostic.as_dict() for diagnostic in result.diagnostics],
        "summary": {"files": result.files, "errors": result.error_count, "warnings": result.warning_count},
        # The layout in force (detected or configured); null when none or several.
        "layout": result.layout,
    }
    if result.layouts:
        document["layouts"] = dict(sorted(result.layouts.items()))
    if result.dialect_skipped:
        document["summary"]["dialect_variants_skipped"] = result.dialect_skipped
    # orjson: a whole corpus's findings serialize several times faster than with json.
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"

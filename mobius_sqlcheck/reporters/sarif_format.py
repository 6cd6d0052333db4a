"""SARIF 2.1.0 for code scanning, with every rule's help text."""

from __future__ import annotations

import json
from urllib.parse import quote

from mobius_sqlcheck import __version__
from mobius_sqlcheck.diagnostics import LintResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# No `informationUri`: the project has no public home yet, and SARIF readers
# show the link to users; a placeholder would send them nowhere.


def render(result: LintResult, colour: bool = False) -> str:
    rules = list(result.rules.values())
    index = {rule.code: position for position, rule in enumerate(rules)}
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mobius-sqlcheck",
                "version": __version__,
                "rules": [_rule(rule) for rule in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": [_result(d, index) for d in result.diagnostics],
        }],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _rule(rule) -> dict:
    level = {"error": "error", "warning": "warning"}.get(rule.severity, "none")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.summary},
        "help": {"text": rule.docs, "markdown": rule.docs},
        "defaultConfiguration": {"level": level, "enabled": rule.severity != "off"},
    }


def _result(d, index: dict[str, int]) -> dict:
    message = d.message + (f" ({d.hint})" if d.hint else "")
    return {
        "ruleId": d.rule,
        "ruleIndex": index[d.rule],
        "level": "error" if d.severity == "error" else "warning",
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": quote(d.path.replace("\\", "/"))},
            "region": {"startLine": d.line, "startColumn": d.column,
                       "endLine": d.end_line, "endColumn": d.end_column},
        }}],
    }

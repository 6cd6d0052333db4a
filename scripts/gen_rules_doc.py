"""Write docs/rules.md, the rule catalogue, from the rule modules themselves
(their CODE, NAME, SEVERITY and docstring). tests/test_docs.py fails when the
page is out of date; after adding or editing a rule:

    .venv/bin/python scripts/gen_rules_doc.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TARGET = REPO / "docs" / "rules.md"

HEADER = """# Rules

Generated from the rule modules in `mobius_sqlcheck/rules/` by
`scripts/gen_rules_doc.py`; do not edit by hand. `mobius-sqlcheck rules`
lists the same, `mobius-sqlcheck explain CODE` prints one rule's whole text.

Ids are stable: configuration and CI scripts pin them. A new rule takes the
next free number in its family; none is renumbered. Defaults can be changed
per rule (`severity = { MSC201 = "error" }`, `"off"` to switch one off) and
any rule can be suppressed where it fires (see the README, Suppressions).

| family | about |
|---|---|
| MSC0xx | reading and parsing the files, the tool itself |
| MSC1xx | migration files: names, versions, order, the lock file |
| MSC2xx | naming of indexes, triggers, constraints, identifiers |
| MSC3xx | changes that lock or rewrite a table that holds rows |
| MSC4xx | rollback files |
| MSC5xx | connections and statements behind a transaction pooler |
| MSC6xx | Supabase security: row-level security, functions, storage |
"""


def render() -> str:
    from mobius_sqlcheck.rules import all_rules

    rules = list(all_rules().values())
    lines = [HEADER, "| id | name | default | flags |", "|---|---|---|---|"]
    lines += [f"| {r.code} | {r.name} | {r.severity} | {r.summary} |" for r in rules]
    lines.append("")
    for rule in rules:
        body = rule.docs.split("\n", 1)[1].strip() if "\n" in rule.docs else ""
        body = body.replace("\n## ", "\n### ")
        if body.startswith("## "):
            body = "#" + body
        lines += [f"## {rule.code} {rule.name}", "", f"Default: {rule.severity}. {rule.summary}", "", body, ""]
    return "\n".join(lines)


def main() -> int:
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`mobius-sqlcheck explain MSC301`: a rule's documentation, as the docs show it."""

from __future__ import annotations

import argparse
import sys

from mobius_sqlcheck.errors import UsageError
from mobius_sqlcheck.rules import Rule, registry_from_environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule", help="rule code (MSC301) or name (not-null-column-without-default)")


def run(args: argparse.Namespace) -> int:
    wanted = args.rule.strip()
    for rule in registry_from_environment().values():
        if wanted.upper() == rule.code or wanted.lower() == rule.name:
            sys.stdout.write(f"# {rule.code} {rule.name} (default: {rule.severity})\n\n{rule.docs}\n")
            sys.stdout.write(_lock_rows(rule))
            return 0
    raise UsageError(f"unknown rule {wanted!r} (see `mobius-sqlcheck rules`)")


def _lock_rows(rule: Rule) -> str:
    """The measured lock-model rows of a lock rule (its module's LOCK_FORMS)."""
    module = sys.modules.get(rule.check.__module__) if rule.check is not None else None
    forms = getattr(module, "LOCK_FORMS", ())
    if not forms:
        return ""
    from mobius_sqlcheck.rules._support.lock_rules import lock_table

    return ("\n## Locks, as measured on PostgreSQL (scripts/gen_pg_locks.py)\n\n" + lock_table(forms) + "\n")

"""`mobius-sqlcheck explain MSC301`: a rule's documentation, as the docs show it."""

from __future__ import annotations

import argparse
import sys

from mobius_sqlcheck.errors import UsageError
from mobius_sqlcheck.rules import registry_from_environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule", help="rule code (MSC301) or name (not-null-column-without-default)")


def run(args: argparse.Namespace) -> int:
    wanted = args.rule.strip()
    for rule in registry_from_environment().values():
        if wanted.upper() == rule.code or wanted.lower() == rule.name:
            sys.stdout.write(f"# {rule.code} {rule.name} (default: {rule.severity})\n\n{rule.docs}\n")
            return 0
    raise UsageError(f"unknown rule {wanted!r} (see `mobius-sqlcheck rules`)")

"""`mobius-sqlcheck rules`: one line per rule."""

from __future__ import annotations

import argparse
import json
import sys

from mobius_sqlcheck.rules import registry_from_environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    rules = registry_from_environment().values()
    if args.format == "json":
        listing = [{"code": r.code, "name": r.name, "severity": r.severity, "summary": r.summary} for r in rules]
        sys.stdout.write(json.dumps(listing, indent=2) + "\n")
        return 0
    for rule in rules:
        sys.stdout.write(f"{rule.code}  {rule.name:<34} {rule.severity:<8} {rule.summary}\n")
    return 0

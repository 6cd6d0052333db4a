"""`rollback`: undo applied migrations with their rollback files, newest first."""

from __future__ import annotations

import argparse

from mobius_sqlcheck.applier import actions, plan
from mobius_sqlcheck.applier.session import add_common_arguments, open_session
from mobius_sqlcheck.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Undo applied migrations newest first, each rollback file in one transaction that also deletes "
        "its history row. Default: the newest one."
    )
    add_common_arguments(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--steps", type=int, metavar="N", help="undo the N newest applied migrations")
    which.add_argument("--to", metavar="VERSION", help="undo every applied migration newer than VERSION (0: all)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be undone; change nothing")


def run(args: argparse.Namespace) -> int:
    if args.steps is not None and args.steps < 1:
        raise UsageError("--steps must be at least 1")
    to_version = plan.parse_version(args.to, "--to") if args.to is not None else None
    session = open_session(args, "rollback")
    try:
        return actions.reported(
            session, lambda: actions.roll_back(session, args.steps, to_version, dry_run=args.dry_run)
        )
    finally:
        session.close()

"""`baseline`: record migrations that were applied by hand."""

from __future__ import annotations

import argparse

from mobius_sqlcheck.applier import actions, plan
from mobius_sqlcheck.applier.session import add_common_arguments, open_session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Record migrations up to VERSION as applied without running them (for a database built with "
        "`psql -f` in order), after checking that the tables, columns, indexes, triggers and buckets "
        "they create exist."
    )
    add_common_arguments(parser)
    parser.add_argument("--to", metavar="VERSION", required=True, help="the newest version already applied by hand")


def run(args: argparse.Namespace) -> int:
    to_version = plan.parse_version(args.to, "--to")
    session = open_session(args, "baseline")
    try:
        return actions.reported(session, lambda: actions.baseline(session, to_version))
    finally:
        session.db.close()

"""`baseline`: record migrations that were applied by hand."""

from __future__ import annotations

import argparse

from mobius_sqlcheck.applier import actions, plan
from mobius_sqlcheck.applier.session import add_common_arguments, open_session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Record migrations up to VERSION as applied without running them (for a database built with "
        "`psql -f` in order), after checking that the tables, columns, indexes, triggers and buckets "
        "they create exist. With --from-supabase: record what the Supabase CLI applied."
    )
    add_common_arguments(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--to", metavar="VERSION", help="the newest version already applied by hand")
    which.add_argument(
        "--from-supabase", action="store_true",
        help="record the migrations `supabase db push` applied (supabase_migrations.schema_migrations), after "
             "checking that the statements it recorded are still those of each file",
    )


def run(args: argparse.Namespace) -> int:
    to_version = plan.parse_version(args.to, "--to") if args.to else None
    session = open_session(args, "baseline")
    try:
        if to_version is None:
            return actions.reported(session, lambda: actions.baseline_from_supabase(session))
        return actions.reported(session, lambda: actions.baseline(session, to_version))
    finally:
        session.close()

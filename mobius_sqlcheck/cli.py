"""Command-line entry point: parses arguments and hands off to one command module.

Each command lives in `mobius_sqlcheck/commands/<name>.py` and defines
`add_arguments(parser)` and `run(args) -> int`. Only the module of the command
being run is imported, so `lint` never pays for psycopg or sqlfluff.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from typing import NoReturn

from mobius_sqlcheck import __version__
from mobius_sqlcheck.diagnostics import redacted
from mobius_sqlcheck.errors import (
    EXIT_CRASH, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, OperationFailed, Terminated, UsageError,
)

COMMANDS: dict[str, str] = {
    "lint": "lint migrations and scan other files for direct connection strings",
    "rules": "list the rules",
    "explain": "print a rule's documentation",
    "format": "fix SQL formatting with sqlfluff",
    "lock": "write the migration lock file (sqlcheck.sum)",
    "apply": "apply pending migrations through the transaction pooler",
    "status": "show applied, pending and modified migrations",
    "rollback": "roll back applied migrations with their rollback files",
    "verify": "compare the live database with what the migrations create",
    "baseline": "record migrations that were applied by hand",
    "cache": "manage the lint cache (`cache clean` deletes it)",
    "trace": "apply on a throwaway PostgreSQL and show the locks each statement takes",
    "server": "the language server for editors (LSP over stdio)",
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse quotes the offending argument in its error: a database URL in
    the wrong place (`apply <URL>`, --database-url forgotten) would print its password."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {redacted(message)}\n")


def build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="mobius-sqlcheck",
        description="Lint, lock and apply PostgreSQL / Supabase migrations.",
    )
    parser.add_argument("--version", action="version", version=f"mobius-sqlcheck {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # When the command is known, only its parser is built (and only its module
    # imported): argparse is slow to build ten. Otherwise all are listed for --help.
    for name, summary in COMMANDS.items():
        if command is None or name == command:
            sub = subparsers.add_parser(name, help=summary, description=summary)
            if name == command:
                command_module(name).add_arguments(sub)
    return parser


def command_module(name: str):  # -> module with add_arguments / run
    return importlib.import_module(f"mobius_sqlcheck.commands.{name}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv and argv[0] in COMMANDS else None
    try:
        args = build_parser(command).parse_args(argv)  # bad arguments: SystemExit(2)
        return command_module(args.command).run(args)
    except UsageError as error:
        print(f"mobius-sqlcheck: error: {redacted(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except OperationFailed as error:
        print(f"mobius-sqlcheck: {redacted(str(error))}", file=sys.stderr)
        return 1
    except Terminated:
        print("mobius-sqlcheck: terminated (SIGTERM); a running statement was cancelled and its transaction "
              "rolled back", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("mobius-sqlcheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 1
    except Exception as error:  # noqa: BLE001 - never a bare traceback for a user
        return _report_crash(error)


def _report_crash(error: Exception) -> int:
    """A bug: one redacted line for the user, the redacted traceback in a log."""
    import tempfile
    import traceback

    from mobius_sqlcheck.connstr import redact

    details = redact("".join(traceback.format_exception(error)))
    log_dir = os.environ.get("MOBIUS_SQLCHECK_LOG_DIR", tempfile.gettempdir())
    try:
        handle, log_path = tempfile.mkstemp(prefix="mobius-sqlcheck-crash-", suffix=".log", dir=log_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as log:
            log.write(details)
    except OSError:
        log_path = "(no log: the log directory is not writable)"
    summary = redact(f"{type(error).__name__}: {error}")
    print(f"mobius-sqlcheck: internal error: {summary}\n  please report it with the log: {log_path}",
          file=sys.stderr)
    return EXIT_CRASH

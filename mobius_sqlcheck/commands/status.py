"""`status`: applied / pending / modified / missing migrations."""

from __future__ import annotations

import argparse

from mobius_sqlcheck.applier import actions
from mobius_sqlcheck.applier.session import add_common_arguments, open_session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = """Show every migration's state:
  applied   recorded in the history with the file's current checksum
  pending   a file not yet applied ("out of order" if it sorts before an applied one)
  modified  applied, but the file changed since (apply refuses until it is restored)
  missing   recorded in the history, but the file is gone

Exit status: 0 when every migration is applied and unchanged; 1 when anything
is pending, modified or missing (so CI can fail on an unapplied migration);
2 on bad usage."""
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    session = open_session(args, "status")
    try:
        return actions.reported(session, lambda: actions.status(session))
    finally:
        session.close()

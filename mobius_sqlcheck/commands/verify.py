"""`verify`: compare the live database with what the applied migrations create."""

from __future__ import annotations

import argparse

from mobius_sqlcheck.applier import actions
from mobius_sqlcheck.applier.session import add_common_arguments, open_session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Schema drift: read the live tables, columns, indexes, triggers and storage buckets of your "
        "database and compare them with what the applied migrations create. Reports "
        "missing, unexpected and mismatched objects. Exit 1 on any difference."
    )
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    session = open_session(args, "verify")
    try:
        return actions.reported(session, lambda: actions.verify(session))
    finally:
        session.close()

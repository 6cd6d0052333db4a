"""`mobius-sqlcheck server`: the language server for editors, over stdio."""

from __future__ import annotations

import argparse

from mobius_sqlcheck.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default and only mode)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the lint cache")


def run(args: argparse.Namespace) -> int:
    try:
        from mobius_sqlcheck.server.protocol import serve
    except ImportError as error:
        raise UsageError(f"the server needs the 'server' extra: pip install 'mobius-sqlcheck[server]' ({error})") from None
    serve(use_cache=not args.no_cache)
    return 0

"""`mobius-sqlcheck cache clean`: delete the lint cache (the history cache and
sqlfluff's results). Safe at any time: the next run rebuilds what it needs."""

from __future__ import annotations

import argparse
import os
import shutil

from mobius_sqlcheck.config import load_config
from mobius_sqlcheck.errors import EXIT_OK, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("clean",), help="clean: delete the cache directory")
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read (default: found upwards)")


def run(args: argparse.Namespace) -> int:
    from mobius_sqlcheck.cache.location import cache_root

    root = cache_root(load_config(args.config))
    if not os.path.exists(root):
        print(f"no cache at {root}")
        return EXIT_OK
    if not os.path.isfile(os.path.join(root, ".gitignore")) and not os.path.isdir(os.path.join(root, "history")):
        raise UsageError(f"{root} does not look like a mobius-sqlcheck cache; not deleting it")
    try:
        shutil.rmtree(root)
    except OSError as error:
        raise UsageError(f"cannot delete {root}: {error.strerror or error}") from None
    print(f"deleted {root}")
    return EXIT_OK

"""`mobius-sqlcheck format [PATH ...]`: fix SQL formatting in place with sqlfluff.

Exits 1 when it changed a file (or, with `--check`, would change one), as
fixers do under pre-commit: the commit stops so the fix can be reviewed and
staged. Line ends (CRLF or LF) and a UTF-8 byte-order mark are kept.
"""

from __future__ import annotations

import argparse
import os
import sys

from mobius_sqlcheck.config import load_config
from mobius_sqlcheck.errors import EXIT_FINDINGS, EXIT_OK, UsageError

_BOM = "\ufeff"
# Directories never worth walking into (virtualenvs, caches, VCS data).
_SKIP_DIRS = {".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache",
              ".pytest_cache", ".mobius_sqlcheck_cache", "build", "dist"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="SQL files or directories (default: the configured migrations directory)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read (default: found upwards)")


def run(args: argparse.Namespace) -> int:
    from mobius_sqlcheck.formatting import Settings, fix_texts

    config = load_config(args.config)
    paths = sql_files(args.paths or [config.migrations])
    originals, unreadable = _read_all(paths)
    results = fix_texts({path: _to_lf(text) for path, text in originals.items()},
                        Settings(extra_config=config.sqlfluff_config or None))
    changed = 0
    for path, result in results.items():
        if result.config_error:
            raise UsageError(result.error)
        if result.error:
            print(f"{path}: sqlfluff could not fix this file: {result.error}", file=sys.stderr)
            unreadable += 1
        elif result.fixed is not None:
            changed += 1
            if not args.check:
                _write(path, _like(originals[path], result.fixed))
            print(f"{'would fix' if args.check else 'fixed'} {path}")
    _summary(len(paths), changed, args.check)
    return EXIT_FINDINGS if changed or unreadable else EXIT_OK


def sql_files(paths: list[str]) -> list[str]:
    """The files to format: files as given, `.sql` files found under directories."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found.extend(_walk(path))
        elif os.path.exists(path):
            found.append(path)
        else:
            raise UsageError(f"no such file or directory: {path}")
    return list(dict.fromkeys(found))


def _walk(directory: str) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        found.extend(os.path.join(root, name) for name in sorted(files) if name.lower().endswith(".sql"))
    return found


def _read_all(paths: list[str]) -> tuple[dict[str, str], int]:
    texts: dict[str, str] = {}
    failures = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                texts[path] = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            print(f"{path}: skipped: {reason}", file=sys.stderr)
            failures += 1
    return texts, failures


def _to_lf(text: str) -> str:
    return text.removeprefix(_BOM).replace("\r\n", "\n")


def _like(original: str, fixed: str) -> str:
    """`fixed` with the original's line ends and byte-order mark."""
    if "\r\n" in original:
        fixed = fixed.replace("\n", "\r\n")
    return _BOM + fixed if original.startswith(_BOM) else fixed


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


def _summary(total: int, changed: int, check: bool) -> None:
    if changed:
        verb = "would be fixed" if check else "fixed"
        print(f"{changed} of {total} files {verb}", file=sys.stderr)

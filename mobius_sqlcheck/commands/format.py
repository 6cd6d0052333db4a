"""`mobius-sqlcheck format [PATH ...]`: fix SQL formatting in place with sqlfluff.

Exits 1 when it changed a file (or, with `--check`, would change one), as
fixers do under pre-commit: the commit stops so the fix can be reviewed and
staged. Line ends (CRLF or LF) and a UTF-8 byte-order mark are kept.

A migration listed in its directory's lock file is left as is: its checksum
is in the lock file (MSC105) and, once applied, in the database's history
(`status` shows it modified, `apply` refuses it). `--include-locked`
formats it anyway, and says which lock file must then be rewritten.
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
    parser.add_argument("--include-locked", action="store_true",
                        help="also format migrations listed in the lock file (the lock file must then be rewritten)")


def run(args: argparse.Namespace) -> int:
    from mobius_sqlcheck.formatting import Settings, fix_texts

    config = load_config(args.config)
    if args.paths:
        paths = sql_files(args.paths)
    else:
        from mobius_sqlcheck.commands.lint import default_paths  # the configured or found migrations

        paths = sql_files(default_paths(config))
    locked = locked_paths(paths, config.lock_file)
    if args.include_locked:
        for lock in sorted({lock for lock in locked.values()}):
            print(f"warning: formatting migrations locked in {lock}: rewrite it with `mobius-sqlcheck lock --force` "
                  "(and never reformat a migration already applied)", file=sys.stderr)
    else:
        for path in locked:
            print(f"{path}: left as is: locked in {locked[path]}")
        paths = [path for path in paths if path not in locked]
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


def locked_paths(paths: list[str], lock_file: str) -> dict[str, str]:
    """The paths listed in their directory's lock file -> that lock file."""
    from mobius_sqlcheck import lockfile

    locks: dict[str, set[str]] = {}
    found: dict[str, str] = {}
    for path in paths:
        lock = lockfile.lock_path(os.path.dirname(path) or ".", lock_file)
        if lock not in locks:
            try:
                read = lockfile.read(lock)
            except lockfile.LockFileError:  # conflicted (MSC109 reports it): its names still count
                locks[lock] = _names_in(lock)
            else:
                locks[lock] = set(read.entries) if read else set()
        if os.path.basename(path) in locks[lock]:
            found[path] = lock
    return found


def _names_in(lock: str) -> set[str]:
    """File names on the lines of a lock file that does not parse (a merge conflict)."""
    try:
        with open(lock, encoding="utf-8", errors="replace") as handle:
            return {line.split()[0] for line in handle if line.strip() and not line.startswith(("<", "=", ">"))}
    except OSError:
        return set()


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

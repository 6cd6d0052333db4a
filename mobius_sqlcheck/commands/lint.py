"""`mobius-sqlcheck lint [PATH ...]`: lint migrations and scan other files."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import TYPE_CHECKING

from mobius_sqlcheck.config import FAIL_LEVELS, Config, load_config
from mobius_sqlcheck.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from mobius_sqlcheck.reporters import FORMATS, renderer

if TYPE_CHECKING:
    from mobius_sqlcheck.fixes.applied import Applied
    from mobius_sqlcheck.rules import Registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or directories (default: the configured migrations directory)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--select", action="append", default=[], metavar="CODES",
                        help="only these rules (comma-separated codes or prefixes, e.g. MSC3,MSC401)")
    parser.add_argument("--ignore", action="append", default=[], metavar="CODES", help="skip these rules")
    parser.add_argument("--fail-on", choices=FAIL_LEVELS, help="lowest severity that fails the run")
    parser.add_argument("--config", metavar="FILE", help="config file to read: mobius-sqlcheck.toml, .mobius-sqlcheck.toml or pyproject.toml "
                             "(default: the nearest one upwards)")
    parser.add_argument("--sarif-file", metavar="FILE", help="also write SARIF 2.1.0 to FILE")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--format-check", action="store_true",
                        help="also report sqlfluff findings (rule MSC005; same as format_check = true)")
    parser.add_argument("--fix", action="store_true",
                        help="apply the mechanical fixes (MSC301, MSC306, MSC308) to migrations that are neither "
                             "locked (the lock file) nor applied (with --database-url)")
    parser.add_argument("--database-url", metavar="URL",
                        help="with --fix: leave alone the migrations this database's history records as applied")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the lint cache (.mobius_sqlcheck_cache/)")


def run(args: argparse.Namespace) -> int:
    from mobius_sqlcheck.lint import lint_paths
    from mobius_sqlcheck.rules import registry_from_environment

    rules = registry_from_environment()
    config = configure(args, rules)
    paths = args.paths or default_paths(config)
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"no such file or directory: {path}")
    # Parse trees are acyclic and freed by reference counting; the cycle
    # collector would only re-walk every live object again and again. A
    # process switch, so the command decides it, not the library.
    if args.database_url and not args.fix:
        raise UsageError("--database-url is read only by --fix (which migrations are applied)")
    applied = _applied(args.database_url) if args.fix and args.database_url else None
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        cache_dir = None if args.no_cache else _cache_root(config)
        result = lint_paths(paths, config, rules, cache_dir=cache_dir)
        if args.fix and _fix(result, config, applied):
            result = lint_paths(paths, config, rules, cache_dir=cache_dir)  # what is left after the fixes
    finally:
        if gc_was_enabled:
            gc.enable()
    if result.files == 0:
        raise UsageError(f"nothing to lint in {', '.join(paths)}: looked for migrations, "
                         "other .sql files and text files the connection-string scan reads "
                         "(.env*, .yaml, .toml, .json, .py, .sh, .md, ...); found none")
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                       and "NO_COLOR" not in os.environ)
    for notice in result.notices:
        print(f"mobius-sqlcheck: notice: {notice}", file=sys.stderr)
    sys.stdout.write(renderer(args.format)(result, colour=colour))
    if args.sarif_file:
        _write(args.sarif_file, renderer("sarif")(result))
    return exit_code(result, config)


def default_paths(config: Config) -> list[str]:
    """The configured migrations directories, else the one found where the
    layouts keep theirs (exit 2 saying where it looked when there is none)."""
    if config.migrations_configured:
        return list(config.migration_directories)
    from mobius_sqlcheck.layouts import find_migrations_directory

    return [find_migrations_directory(".")]


def _applied(url: str) -> Applied:
    from mobius_sqlcheck.fixes.applied import read_applied

    applied = read_applied(url)
    print(f"mobius-sqlcheck: --fix leaves alone what {applied.database} records as applied "
          f"({len(applied.ours)} in mobius_sqlcheck's history, {len(applied.cli)} in the Supabase CLI's)",
          file=sys.stderr)
    return applied


def _fix(result, config: Config, applied: Applied | None) -> bool:
    """Apply the mechanical fixes; says what it did on stderr. True if a file changed."""
    from mobius_sqlcheck.fixes.apply import fix_findings

    done = fix_findings(result.diagnostics, config, applied)
    for line in done:
        print(f"mobius-sqlcheck: {line}", file=sys.stderr)
    return any(": fixed " in line for line in done)


def _cache_root(config: Config) -> str:
    from mobius_sqlcheck.cache.location import cache_root

    return cache_root(config)


def configure(args: argparse.Namespace, rules: Registry | None = None) -> Config:
    from mobius_sqlcheck.rules import expand_selectors

    config = load_config(args.config)
    changes: dict[str, object] = {}
    if args.select:
        select = _split(args.select)
        expand_selectors(select, "--select", rules)
        changes["select"] = select
    if args.ignore:
        ignore = [*config.ignore, *_split(args.ignore)]
        expand_selectors(ignore, "--ignore", rules)
        changes["ignore"] = ignore
    if args.fail_on:
        changes["fail_on"] = args.fail_on
    config = config.replace(**changes) if changes else config
    return _with_format_check(config, explicit=args.format_check)


FORMAT_CHECK_RULE = "MSC005"


def _with_format_check(config: Config, explicit: bool) -> Config:
    """MSC005 is off by default (sqlfluff is slow); `--format-check` turns it
    on as an error. `format_check = true` in the config does too, unless
    `--select` leaves it out: the connection-string hook selects only MSC501
    and must not pay for sqlfluff."""
    from mobius_sqlcheck.rules import expand_selectors

    if FORMAT_CHECK_RULE in config.severity:
        return config  # the user chose its severity
    if explicit or (config.format_check and (
            not config.select or FORMAT_CHECK_RULE in expand_selectors(config.select, "--select"))):
        return config.replace(severity={**config.severity, FORMAT_CHECK_RULE: "error"})
    return config


def exit_code(result, config: Config) -> int:
    if result.internal_errors or result.error_count:
        return EXIT_FINDINGS
    if config.fail_on == "warning" and result.warning_count:
        return EXIT_FINDINGS
    return EXIT_OK


def _split(values: list[str]) -> list[str]:
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None

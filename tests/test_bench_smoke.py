"""Smoke tests for the benchmark tooling.

The benchmark is only worth its numbers if the corpus is valid SQL and the
same bytes every time, and if the runner still runs end to end as the CLI
evolves. Timings are never asserted: they belong to the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pglast.parser import parse_sql_json

from bench.corpus import generate

REPO = Path(__file__).resolve().parent.parent


def test_corpus_parses_with_pglast(tmp_path: Path) -> None:
    written = generate(tmp_path, files=20, seed=7)
    assert len(written) == 40  # 20 migrations, each with its rollback
    for path in written:
        parsed = json.loads(parse_sql_json(Path(path).read_text(encoding="utf-8")))
        assert parsed.get("stmts"), f"{path} has no statement"


def test_corpus_is_identical_for_the_same_seed(tmp_path: Path) -> None:
    first = generate(tmp_path / "first", files=20, seed=7)
    second = generate(tmp_path / "second", files=20, seed=7)
    assert [Path(p).name for p in first] == [Path(p).name for p in second]
    for a, b in zip(first, second):
        assert Path(a).read_bytes() == Path(b).read_bytes(), Path(a).name


def test_corpus_without_rollbacks(tmp_path: Path) -> None:
    written = generate(tmp_path, files=5, seed=7, rollbacks=False)
    assert len(written) == 5
    assert not any(p.endswith("_rollback.sql") for p in written)


def test_quick_run_prints_the_tables() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "| measurement | measured: median (min–max) | baseline: median (min–max) | ratio | target | result |" in out
    rows = ("lint / squawk", "lint / parse floor", "lint one file", "hook, Mobius repo (12 files)", "format check")
    for row in rows:
        assert row in out, row
    assert "### Scaling" in out
    assert "| files | migrations | lint wall: median (min–max) | per file | marginal per file | peak RSS | target | result |" in out
    assert "| 40 | 20 |" in out

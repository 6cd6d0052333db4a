"""The worker processes of a long history (mobius_sqlcheck.lint.workers):
the same output as without them, with and without the history cache; a
rule that raises in a worker is MSC004 as anywhere else; a worker that dies
is MSC004 on its batch, and the run goes on and finishes.

Real forked workers, in a real `lint` process, on a real corpus
(bench.corpus), with real rule modules in a throwaway package for the
failures; the only knobs turned are the threshold (MIN_POOL_FILES), to lint
the same corpus without workers, and the load check (idle_cores), so that a
busy machine does not skip them.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench.corpus import generate
from mobius_sqlcheck.lint import workers
from mobius_sqlcheck.rules import EXTRA_RULES_ENV
from tests.fuzzing import nested
from tests.test_history_cache import FUZZ

MIGRATIONS = 210  # with their rollbacks: above MIN_POOL_FILES
REPO = Path(__file__).resolve().parent.parent
_packages = itertools.count(1)

DOCS = '''"""{summary}

## What it does
Fails on purpose, to test the worker processes.

## Why is this bad?
It is a test rule.

## Example
A statement saying so.

## Use instead
Nothing.
"""
'''

RULES = {
    "msc995_raises_in_worker.py": DOCS.format(summary="Raises on a statement saying explode.") + textwrap.dedent('''
        CODE = "MSC995"
        NAME = "raises-in-worker"
        SEVERITY = "warning"
        CATALOG_FREE = True
        NODE_TYPES = ("*",)

        def check_statement(statement, ctx):
            if b"explode" in ctx.source.data[statement.start:statement.end]:
                raise ValueError("raised on purpose")
            return ()
    '''),
    "msc996_kills_its_worker.py": DOCS.format(summary="Ends a worker process on a statement saying die.")
    + textwrap.dedent('''
        import os

        CODE = "MSC996"
        NAME = "kills-its-worker"
        SEVERITY = "warning"
        CATALOG_FREE = True
        NODE_TYPES = ("*",)

        def check_statement(statement, ctx):
            in_worker = os.getpid() != int(os.environ.get("MOBIUS_TEST_MAIN_PID", os.getpid()))
            if in_worker and b"die" in ctx.source.data[statement.start:statement.end]:
                os._exit(3)
            return ()
    '''),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("workers") / "migrations"
    generate(directory, MIGRATIONS, rollbacks=True)
    return directory


@pytest.fixture
def rules(tmp_path: Path) -> dict[str, str]:
    """The environment of a lint process that loads the failing rules."""
    name = f"mobius_worker_rules_{next(_packages)}_{os.getpid()}"
    package = tmp_path / "rule_packages" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Rules that fail in workers on purpose."""\n')
    for filename, text in RULES.items():
        (package / filename).write_text(text)
    return {**os.environ, EXTRA_RULES_ENV: name,
            "PYTHONPATH": os.pathsep.join([str(REPO), str(package.parent)])}


# A lint process with the workers forced on (the load check off: other work on
# the machine must not skip them) or off (the threshold out of reach); it
# says on stderr how many pools it started. A fresh process, because a test
# process may hold threads of other tests, and workers never fork beside threads.
_LINT = """
import os, sys
from mobius_sqlcheck.lint import sources, workers
os.environ["MOBIUS_TEST_MAIN_PID"] = str(os.getpid())
started = []
if sys.argv[1] == "on":
    workers.idle_cores = lambda: 1.0
    start = workers.start
    def recording(*args):
        started.append(start(*args))
        return started[-1]
    workers.start = recording
else:
    sources.MIN_POOL_FILES = 10**9
from mobius_sqlcheck.cli import main
code = main(sys.argv[2:])
print("pools started:", sum(pool is not None for pool in started), file=sys.stderr)
sys.exit(code)
"""


def _lint(env: dict[str, str], directory: Path, workers_on: bool, cache: Path | None = None) -> tuple[str, str]:
    """(JSON output, stderr) of `lint --format json` on `directory`."""
    run_env = {**env, "MOBIUS_SQLCHECK_CACHE_DIR": str(cache)} if cache else env
    done = subprocess.run([sys.executable, "-c", _LINT, "on" if workers_on else "off", "lint", "--format", "json",
                           *([] if cache else ["--no-cache"]), str(directory)],
                          cwd=directory.parent, env=run_env, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout, done.stderr


_NO_WORKERS = pytest.mark.skipif(workers.spare_cores() < 1 or not sys.platform.startswith("linux"),
                                 reason="one core, or not Linux: no worker is ever started")


def _with_statement(corpus: Path, tmp_path: Path, number: int, statement: str) -> Path:
    """A copy of the corpus whose migration `number` ends with `statement`."""
    copy = tmp_path / "copy" / "migrations"
    copy.mkdir(parents=True)
    for path in sorted(corpus.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        if path.name.startswith(f"{number:04d}_") and not path.name.endswith("_rollback.sql"):
            text += f"\n{statement}\n"
        (copy / path.name).write_text(text, encoding="utf-8")
    return copy


def _with_odd_files(directory: Path) -> None:
    """The saved fuzz crashers and deeply nested statements, among the corpus's files."""
    for number, case in enumerate(sorted(p for p in FUZZ.iterdir() if p.is_dir())):
        for fuzz in case.glob("*.fuzz"):
            shutil.copy(fuzz, directory / fuzz.name.removesuffix(".fuzz").replace("001_", f"{60 + number:04d}_"))
    for number, kind in enumerate(["sub-selects", "calls", "and"]):
        (directory / f"{70 + number:04d}_deep.sql").write_bytes(b"SELECT 1;\n" + nested(kind, 400) + b"\n")
    (directory / "0073_too_deep.sql").write_bytes(nested("sub-selects", 5000) + b"\nSELECT 2;\n")


@_NO_WORKERS
def test_same_output_with_and_without_workers(corpus: Path, tmp_path: Path, rules: dict[str, str]) -> None:
    directory = _with_statement(corpus, tmp_path, 50, "SELECT 'explode';")
    _with_odd_files(directory)
    with_workers, said = _lint(rules, directory, workers_on=True)
    assert "pools started: 1" in said
    cached_with_workers, said = _lint(rules, directory, workers_on=True, cache=tmp_path / "cache")
    assert "pools started: 1" in said
    assert "statement nested too deeply" in with_workers  # the odd files are there, and reported
    assert '"MSC995"' not in with_workers  # the test rule failed: MSC004, not a finding
    assert "rule MSC995 (raises-in-worker) failed here: ValueError: raised on purpose" in with_workers
    without, said = _lint(rules, directory, workers_on=False)
    assert "pools started: 0" in said
    assert without == with_workers
    assert cached_with_workers == with_workers


@_NO_WORKERS
def test_a_worker_that_dies_costs_its_batch_only(corpus: Path, tmp_path: Path, rules: dict[str, str]) -> None:
    directory = _with_statement(corpus, tmp_path, 20, "SELECT 'die';")
    output, said = _lint(rules, directory, workers_on=True)
    assert "pools started: 1" in said
    diagnostics = json.loads(output)["diagnostics"]
    lost = [d for d in diagnostics if d["rule"] == "MSC004"]
    assert lost and all("a worker process stopped (exit code 3)" in d["message"] for d in lost)
    [dying] = [p for p in directory.glob("0020_*.sql") if not p.name.endswith("_rollback.sql")]
    lost_paths = {d["path"] for d in lost}
    assert str(dying) in lost_paths
    assert len(lost) <= workers.BATCH
    # Every other file is checked as without workers (the main process took over).
    alone = json.loads(_lint(rules, directory, workers_on=False)[0])["diagnostics"]
    assert ([d for d in diagnostics if d["path"] not in lost_paths]
            == [d for d in alone if d["path"] not in lost_paths])

_MODULES_AFTER_LINT = """
import sys
from mobius_sqlcheck.cli import main
code = main(sys.argv[1:])
print(",".join(sorted(sys.modules)))
"""


def test_the_one_file_hook_starts_no_worker(corpus: Path, tmp_path: Path) -> None:
    """The hook on one file of a long history checks one file: not even the workers' modules are imported."""
    forward = sorted(p for p in corpus.glob("*.sql") if not p.name.endswith("_rollback.sql"))[-1]
    env = {**os.environ, "MOBIUS_SQLCHECK_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _MODULES_AFTER_LINT, "lint", str(forward)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    modules = set(done.stdout.strip().splitlines()[-1].split(","))
    assert "mobius_sqlcheck.lint.pipeline" in modules
    assert not {"mobius_sqlcheck.lint.workers", "multiprocessing", "concurrent.futures", "threading"} & modules

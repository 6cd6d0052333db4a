"""Benchmark mobius_sqlcheck against its baselines and print a markdown table.

Why ratios and not seconds: absolute times depend on the machine, but "lint
is 1.3x the cost of just parsing" holds anywhere. So every baseline is measured
in the same invocation, interleaved run by run with the command it is compared
to (drift in CPU frequency or cache state hits both alike), and each row shows
the median of K runs, the min–max spread, and the ratio of medians beside its
target with PASS or MISS.

Every measurement is a whole process, started the way a user or CI starts it
(`python -m mobius_sqlcheck ...`), because interpreter start-up and imports
are part of what a pre-commit hook costs. Children run in a temporary working
directory (so no pyproject.toml configures them) with the repository on
PYTHONPATH, and an emptied MOBIUS_SQLCHECK_CACHE_DIR before each run except
the warm format-check runs, so lint timings never profit from an earlier run.

    .venv/bin/python -m bench.run              # the full benchmark (several minutes)
    .venv/bin/python -m bench.run --quick      # tiny smoke run, numbers meaningless
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import DEFAULT_SEED, generate

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

TARGET_VS_SQUAWK = 0.7
TARGET_VS_FLOOR = 2.0
TARGET_HOOK = 1.5
TARGET_WARM_FORMAT = 0.05
TARGET_RSS_MB = 150
TARGET_WARM_VS_SQUAWK = 0.1
TARGET_SNAPSHOT_SHARE = 0.10  # one catalog snapshot against the corpus's own size
HOOK_HISTORY_MIGRATIONS = 1_500  # with their rollbacks: a 3,000-file history
RSS_TARGET_FILES = 10_000  # the RSS target is stated for a 10,000-file corpus

LINT_EXIT_CODES = (0, 1)  # 1 only means "findings"; anything else is a failure
EXIT_USAGE = 2  # argparse's exit for an unknown option: the feature is not there yet

# Reads and parses every file exactly as the linter must: the floor no linter
# built on pglast can go below.
PARSE_FLOOR_CODE = """
import json, pathlib, sys
from pglast.parser import parse_sql_json
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.sql")):
    json.loads(parse_sql_json(path.read_text(encoding="utf-8")))
"""


@dataclass
class Sample:
    """One finished child process."""

    seconds: float
    max_rss_kb: int
    exit_code: int
    stderr: str


@dataclass
class Timing:
    """The samples of one command; the median resists the odd slow run better than the mean."""

    samples: list[Sample]

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def low(self) -> float:
        return min(s.seconds for s in self.samples)

    @property
    def high(self) -> float:
        return max(s.seconds for s in self.samples)

    @property
    def peak_rss_mb(self) -> float:
        """The worst run, not the median: a memory budget is about the worst case."""
        return max(s.max_rss_kb for s in self.samples) / 1024


@dataclass
class Row:
    """One line of the comparison table, already formatted."""

    label: str
    measured: str
    baseline: str
    ratio: str
    target: str
    result: str


class CommandFailed(Exception):
    """A child exited with a code that means it did not do the work."""

    def __init__(self, sample: Sample) -> None:
        lines = sample.stderr.strip().splitlines()
        last = lines[-1] if lines else "no output on stderr"
        super().__init__(f"exit {sample.exit_code}: {last}")
        self.sample = sample


@dataclass
class Context:
    """Where children run and what they see; shared by every measurement."""

    cwd: Path
    env: dict[str, str]
    cache_dir: Path
    runs: int


def run_once(cmd: Sequence[str], ctx: Context) -> Sample:
    """Run one child and return its wall time and its own peak RSS.

    os.wait4 on the child's pid is the only way to get the max RSS of that one
    process: getrusage(RUSAGE_CHILDREN) reports the maximum over all children
    ever waited for, so a later, smaller run could never show.
    """
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=ctx.cwd, env=ctx.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
        err.seek(0)
        stderr = err.read().decode("utf-8", errors="replace")
    return Sample(seconds, usage.ru_maxrss, proc.returncode, stderr)


def empty_cache(ctx: Context) -> None:
    """Start from a cold cache, so no run profits from the one before it."""
    shutil.rmtree(ctx.cache_dir, ignore_errors=True)
    ctx.cache_dir.mkdir(parents=True)


def checked(cmd: Sequence[str], ctx: Context, accept: Sequence[int]) -> Sample:
    """run_once, but a timing of a failed run is worthless: raise instead."""
    sample = run_once(cmd, ctx)
    if sample.exit_code not in accept:
        raise CommandFailed(sample)
    return sample


def measure_interleaved(
    commands: dict[str, tuple[list[str], Sequence[int]]], ctx: Context, warm_up: bool = True
) -> dict[str, Timing]:
    """Time each command ctx.runs times, alternating between them round by round.

    One untimed warm-up round first, so .pyc compilation and the first read of
    the files do not land in the first timed sample of only one side.
    """
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for round_number in range(ctx.runs + (1 if warm_up else 0)):
        for name, (cmd, accept) in commands.items():
            empty_cache(ctx)
            sample = checked(cmd, ctx, accept)
            if round_number > 0 or not warm_up:
                samples[name].append(sample)
    return {name: Timing(values) for name, values in samples.items()}


def fmt_seconds(seconds: float) -> str:
    """ms below a second, s above: both stay readable in one table."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_timing(name: str, timing: Timing) -> str:
    return f"{name} {fmt_seconds(timing.median)} ({fmt_seconds(timing.low)}–{fmt_seconds(timing.high)})"


def verdict(value: float, limit: float) -> str:
    return "PASS" if value <= limit else "MISS"


def comparison_row(label: str, measured: tuple[str, Timing], baseline: tuple[str, Timing], target: float) -> Row:
    """A row whose ratio is measured median / baseline median."""
    ratio = measured[1].median / baseline[1].median
    return Row(
        label,
        fmt_timing(*measured),
        fmt_timing(*baseline),
        f"{ratio:.2f}x",
        f"≤ {target}x",
        verdict(ratio, target),
    )


def missing_row(label: str, reason: str, target: float) -> Row:
    """A row for a comparison that could not be made: say why instead of failing the whole run."""
    return Row(label, reason, "—", "—", f"≤ {target}x", "n/a")


def lint_cmd(*args: str) -> list[str]:
    return [PYTHON, "-m", "mobius_sqlcheck", "lint", *args]


def find_squawk() -> str | None:
    """squawk from this venv first (it may not be activated), then PATH."""
    beside_python = Path(PYTHON).parent / "squawk"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("squawk")


def sql_files(corpus: Path) -> list[str]:
    return [str(p) for p in sorted(corpus.glob("*.sql"))]


def corpus_label(corpus: Path) -> str:
    files = len(sql_files(corpus))
    forward = sum(1 for p in corpus.glob("*.sql") if not p.name.endswith("_rollback.sql"))
    return f"{forward:,} migrations ({files:,} files)"


def squawk_row(corpus: Path, ctx: Context) -> Row:
    """Whole-corpus lint against squawk on the very same .sql files."""
    label = f"whole corpus, {corpus_label(corpus)}, cold cache: lint / squawk"
    squawk = find_squawk()
    if squawk is None:
        return missing_row(label, "squawk not installed (pip install squawk-cli)", TARGET_VS_SQUAWK)
    commands = {
        "ours": (lint_cmd("--format", "json", str(corpus)), LINT_EXIT_CODES),
        # JSON on both sides: squawk's default reporter draws source snippets, extra work we do not do.
        "squawk": ([squawk, "--reporter", "json", *sql_files(corpus)], (0, 1)),
    }
    try:
        timings = measure_interleaved(commands, ctx)
    except CommandFailed as error:
        return missing_row(label, f"failed ({error})", TARGET_VS_SQUAWK)
    return comparison_row(label, ("lint", timings["ours"]), ("squawk", timings["squawk"]), TARGET_VS_SQUAWK)


def floor_row(corpus: Path, ctx: Context) -> Row:
    """Whole-corpus lint against reading and parsing the same files, nothing more."""
    label = f"whole corpus, {corpus_label(corpus)}: lint / parse floor"
    commands = {
        "ours": (lint_cmd("--format", "json", str(corpus)), LINT_EXIT_CODES),
        "floor": ([PYTHON, "-c", PARSE_FLOOR_CODE, str(corpus)], (0,)),
    }
    try:
        timings = measure_interleaved(commands, ctx)
    except CommandFailed as error:
        return missing_row(label, f"failed ({error})", TARGET_VS_FLOOR)
    return comparison_row(label, ("lint", timings["ours"]), ("floor", timings["floor"]), TARGET_VS_FLOOR)


def hook_file(corpus: Path) -> Path:
    """A forward migration from the middle of the history: what a pre-commit hook lints."""
    forward = [p for p in sorted(corpus.glob("*.sql")) if not p.name.endswith("_rollback.sql")]
    return forward[len(forward) // 2]


# The hook as this project meets it: one migration of the Mobius history (12 files).
REPOSITORY_HOOK_FILE = Path(__file__).resolve().parent.parent / "migrations" / "005_add_compressed_twin.sql"


def hook_row(label: str, migration: Path, ctx: Context) -> Row:
    """Linting one file against the bare cost of starting Python and importing pglast."""
    commands = {
        "ours": (lint_cmd(str(migration)), LINT_EXIT_CODES),
        "pglast": ([PYTHON, "-c", "import pglast"], (0,)),
    }
    try:
        timings = measure_interleaved(commands, ctx)
    except CommandFailed as error:
        return missing_row(label, f"failed ({error})", TARGET_HOOK)
    return comparison_row(label, ("lint", timings["ours"]), ("import", timings["pglast"]), TARGET_HOOK)


TARGET_DETECTION = 1.05


def detection_row(migration: Path, ctx: Context) -> Row:
    """The one-file hook with the layout detected (`layout = "auto"`, the
    default) against the layout named (`layout = "mobius"`: no detection),
    same run, same config-file cost on both sides."""
    label = "hook, Mobius repo: lint 005, layout detected / layout = \"mobius\""
    configs = {}
    for name, layout in (("auto", "auto"), ("named", "mobius")):
        path = ctx.cwd.parent / f"layout-{name}.toml"
        path.write_text(f'layout = "{layout}"\n', encoding="utf-8")
        configs[name] = str(path)
    commands = {
        "detected": (lint_cmd("--config", configs["auto"], str(migration)), LINT_EXIT_CODES),
        "named": (lint_cmd("--config", configs["named"], str(migration)), LINT_EXIT_CODES),
    }
    try:
        timings = measure_interleaved(commands, ctx)
    except CommandFailed as error:
        return missing_row(label, f"failed ({error})", TARGET_DETECTION)
    return comparison_row(label, ("auto", timings["detected"]), ("mobius", timings["named"]), TARGET_DETECTION)


def format_rounds(cmd: list[str], ctx: Context) -> tuple[Timing, Timing]:
    """Each round: empty the cache, run cold, then run again warm on the cache it left."""
    cold: list[Sample] = []
    warm: list[Sample] = []
    for _ in range(ctx.runs):
        empty_cache(ctx)
        cold.append(checked(cmd, ctx, LINT_EXIT_CODES))
        warm.append(checked(cmd, ctx, LINT_EXIT_CODES))
    return Timing(warm), Timing(cold)


def format_row(corpus: Path, ctx: Context) -> Row:
    """sqlfluff format check with a warm cache against a cold one; not available until the option exists."""
    label = f"format check, {len(sql_files(corpus)):,} files: warm / cold cache"
    try:
        warm, cold = format_rounds(lint_cmd("--format-check", str(corpus)), ctx)
    except CommandFailed as error:
        if error.sample.exit_code == EXIT_USAGE:
            return missing_row(label, f"not available ({error})", TARGET_WARM_FORMAT)
        return missing_row(label, f"failed ({error})", TARGET_WARM_FORMAT)
    return comparison_row(label, ("warm", warm), ("cold", cold), TARGET_WARM_FORMAT)


# -- the history cache ------------------------------------------------------------------


def warm_cache(cmd: list[str], ctx: Context) -> None:
    """Fill the cache with one run of `cmd` (from empty)."""
    empty_cache(ctx)
    checked(cmd, ctx, LINT_EXIT_CODES)


def measure_rounds(commands: dict[str, tuple[list[str], Callable[[], None]]], ctx: Context) -> dict[str, Timing]:
    """Like measure_interleaved, but each command says how to prepare its run
    (cold: empty the cache; warm: leave it) instead of always emptying it."""
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for round_number in range(ctx.runs + 1):
        for name, (cmd, prepare) in commands.items():
            prepare()
            sample = checked(cmd, ctx, LINT_EXIT_CODES)
            if round_number > 0:
                samples[name].append(sample)
    return {name: Timing(values) for name, values in samples.items()}


def warm_hook_row(seed: int, workdir: Path, ctx: Context, migrations: int = HOOK_HISTORY_MIGRATIONS) -> Row:
    """(a) The hook on one new migration appended to a 3,000-file history whose
    cache is warm: each round appends a different migration (the previous one
    removed), so no round finds its own file cached."""
    history = workdir / "hook-history"
    generate(history, migrations, seed, rollbacks=True)
    label = f"hook, {corpus_label(history)} + 1 new migration, warm cache: lint it / python -c 'import pglast'"
    appended = history / f"{migrations + 1:04d}_appended_change.sql"
    rounds = iter(range(1_000_000))

    def new_migration() -> None:
        appended.write_text(f"-- round {next(rounds)}\nCREATE TABLE appended_change (id bigint PRIMARY KEY);\n"
                            "ALTER TABLE appended_change ENABLE ROW LEVEL SECURITY;\n", encoding="utf-8")

    try:
        warm_cache(lint_cmd("--format", "json", str(history)), ctx)
        timings = measure_rounds({
            "ours": (lint_cmd(str(appended)), new_migration),
            "pglast": ([PYTHON, "-c", "import pglast"], lambda: None),
        }, ctx)
    except CommandFailed as error:
        return missing_row(label, f"failed ({error})", TARGET_HOOK)
    finally:
        shutil.rmtree(history)
    return comparison_row(label, ("lint", timings["ours"]), ("import", timings["pglast"]), TARGET_HOOK)


def warm_corpus_rows(corpus: Path, ctx: Context) -> list[Row]:
    """(b) The whole corpus on a warm cache, against the same run cold and against squawk."""
    label = f"whole corpus, {corpus_label(corpus)}"
    cmd = lint_cmd("--format", "json", str(corpus))
    squawk = find_squawk()
    commands: dict[str, tuple[list[str], Callable[[], None]]] = {
        "cold": (cmd, lambda: empty_cache(ctx)),
        "warm": (cmd, lambda: None),  # the cold run just before filled it
    }
    if squawk is not None:
        commands["squawk"] = ([squawk, "--reporter", "json", *sql_files(corpus)], lambda: None)
    try:
        timings = measure_rounds(commands, ctx)
    except CommandFailed as error:
        return [missing_row(f"{label}: warm / cold cache", f"failed ({error})", TARGET_WARM_VS_SQUAWK)]
    rows = [comparison_row(f"{label}: warm / cold cache", ("warm", timings["warm"]), ("cold", timings["cold"]),
                           TARGET_WARM_VS_SQUAWK)]
    rows[0].target, rows[0].result = "—", "—"  # no target of its own: the squawk row below has it
    if squawk is None:
        rows.append(missing_row(f"{label}: warm cache / squawk", "squawk not installed", TARGET_WARM_VS_SQUAWK))
    else:
        rows.append(comparison_row(f"{label}: warm cache / squawk", ("warm", timings["warm"]),
                                   ("squawk", timings["squawk"]), TARGET_WARM_VS_SQUAWK))
    return rows


def directory_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def largest_snapshot_bytes(root: Path) -> int:
    snapshots = [p.stat().st_size for p in (root / "history" / "sz").rglob("*") if p.is_file()]
    return max(snapshots, default=0)


@dataclass
class ScalePoint:
    """One corpus size of the scaling table."""

    files: int
    migrations: int
    timing: Timing | None
    error: str = ""
    warm: Timing | None = None  # at RSS_TARGET_FILES: the same lint on a warm cache
    cache_bytes: int = 0  # the cache a cold run leaves
    snapshot_bytes: int = 0  # its largest catalog snapshot
    corpus_bytes: int = 0


def scale_point(files: int, seed: int, workdir: Path, ctx: Context, with_cache: bool = False) -> ScalePoint:
    """Lint a corpus of `files` .sql files (half migrations, half rollbacks), ctx.runs times."""
    migrations = files // 2
    corpus = workdir / f"scale-{files}"
    generate(corpus, migrations, seed, rollbacks=True)
    cmd = lint_cmd("--format", "json", str(corpus))
    point = ScalePoint(files, migrations, None, corpus_bytes=directory_bytes(corpus))
    try:
        point.timing = measure_interleaved({"ours": (cmd, LINT_EXIT_CODES)}, ctx, warm_up=False)["ours"]
        if with_cache:
            warm_cache(cmd, ctx)
            point.cache_bytes = directory_bytes(ctx.cache_dir)
            point.snapshot_bytes = largest_snapshot_bytes(ctx.cache_dir)
            point.warm = measure_rounds({"warm": (cmd, lambda: None)}, ctx)["warm"]
    except CommandFailed as error:
        point.error = f"failed ({error})"
        point.timing = None
    finally:
        shutil.rmtree(corpus)  # 10,000 files: do not keep them around for the next size
    return point


def cache_lines(points: list[ScalePoint]) -> list[str]:
    """(d) peak RSS warm, (e) the cache's size on disk, at RSS_TARGET_FILES."""
    lines = ["| files | peak RSS cold | peak RSS warm | cache on disk | largest snapshot / corpus | target | result |",
             "|---:|---:|---:|---:|---:|---|---|"]
    for point in points:
        if point.warm is None or point.timing is None:
            continue
        share = point.snapshot_bytes / point.corpus_bytes if point.corpus_bytes else 0.0
        rss_ok = max(point.timing.peak_rss_mb, point.warm.peak_rss_mb) <= TARGET_RSS_MB
        ok = rss_ok and share <= TARGET_SNAPSHOT_SHARE
        lines.append(f"| {point.files:,} | {point.timing.peak_rss_mb:.0f} MB | {point.warm.peak_rss_mb:.0f} MB "
                     f"| {point.cache_bytes / 1e6:.1f} MB (corpus {point.corpus_bytes / 1e6:.1f} MB) "
                     f"| {point.snapshot_bytes / 1e6:.2f} MB = {share:.1%} "
                     f"| ≤ {TARGET_RSS_MB} MB; snapshot ≤ {TARGET_SNAPSHOT_SHARE:.0%} | {'PASS' if ok else 'MISS'} |")
    return lines


def marginal_ms(point: ScalePoint, previous: ScalePoint | None) -> str:
    """Extra time per extra file since the previous size: start-up cancels out, so flat means linear."""
    if previous is None or point.timing is None or previous.timing is None:
        return "—"
    extra = (point.timing.median - previous.timing.median) / (point.files - previous.files)
    return f"{extra * 1000:.2f} ms"


def scale_line(point: ScalePoint, previous: ScalePoint | None) -> str:
    """A markdown row: wall time, time per file, marginal time per file, peak RSS against the budget."""
    size = f"| {point.files:,} | {point.migrations:,} "
    if point.timing is None:
        return size + f"| {point.error} | — | — | — | — | — |"
    per_file = point.timing.median / point.files * 1000
    rss = point.timing.peak_rss_mb
    wall = f"{fmt_seconds(point.timing.median)} ({fmt_seconds(point.timing.low)}–{fmt_seconds(point.timing.high)})"
    if point.files >= RSS_TARGET_FILES:
        target, result = f"≤ {TARGET_RSS_MB} MB", verdict(rss, TARGET_RSS_MB)
    else:
        target, result = "—", "—"
    marginal = marginal_ms(point, previous)
    return size + f"| {wall} | {per_file:.2f} ms | {marginal} | {rss:.0f} MB | {target} | {result} |"


def comparison_table(rows: list[Row]) -> list[str]:
    lines = [
        "| measurement | measured: median (min–max) | baseline: median (min–max) | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r.label} | {r.measured} | {r.baseline} | {r.ratio} | {r.target} | {r.result} |" for r in rows]
    return lines


def scaling_table(points: list[ScalePoint]) -> list[str]:
    lines = [
        "| files | migrations | lint wall: median (min–max) | per file | marginal per file | peak RSS | target | result |",
        "|---:|---:|---|---:|---:|---:|---|---|",
    ]
    previous: list[ScalePoint | None] = [None, *points[:-1]]
    return lines + [scale_line(p, before) for p, before in zip(points, previous)]


def tool_versions() -> str:
    """What produced the numbers, so two tables can be compared knowingly."""
    import pglast

    squawk = find_squawk()
    squawk_version = "not installed"
    if squawk is not None:
        done = subprocess.run([squawk, "--version"], capture_output=True, text=True, check=False)
        squawk_version = done.stdout.strip() or "unknown"
    python = ".".join(map(str, sys.version_info[:3]))
    load = os.getloadavg()[0]  # other work on the machine widens the min–max spreads
    cpus = f"{os.cpu_count()} CPUs, load {load:.1f} at the end"
    return f"python {python}, pglast {pglast.__version__}, {squawk_version}, {cpus}"


def make_context(workdir: Path, runs: int) -> Context:
    """Children import the repository's package, use a private cache and find no pyproject.toml."""
    env = dict(os.environ)
    # A user's Python keeps its .pyc files: compiling every module on every run is not what they pay.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    cache_dir = workdir / "cache"
    env["MOBIUS_SQLCHECK_CACHE_DIR"] = str(cache_dir)
    cwd = workdir / "cwd"
    cwd.mkdir()
    return Context(cwd=cwd, env=env, cache_dir=cache_dir, runs=runs)


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout is only the markdown."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def timed_rows(steps: list[tuple[str, Callable[[], Row]]]) -> list[Row]:
    rows = []
    for message, step in steps:
        progress(message)
        rows.append(step())
    return rows


def _server_row(seed: int, workdir: Path, ctx: Context, quick: bool) -> Row:
    from bench.server_bench import server_row  # it imports this module

    return server_row(seed, workdir, ctx, 10 if quick else HOOK_HISTORY_MIGRATIONS)


def run_cache_benchmark(files: int, runs: int, seed: int, quick: bool) -> list[str]:
    """`--only cache`: the history cache's rows alone, (a), (b), (d) and (e)."""
    size = 40 if quick else RSS_TARGET_FILES
    with tempfile.TemporaryDirectory(prefix="mobius-bench-") as tmp:
        workdir = Path(tmp)
        ctx = make_context(workdir, runs)
        corpus = workdir / "corpus"
        progress(f"generating {files} migrations (+ rollbacks) with seed {seed}")
        generate(corpus, files, seed, rollbacks=True)
        progress("hook on a warm 3,000-file history vs import pglast")
        rows = [warm_hook_row(seed, workdir, ctx, 10 if quick else HOOK_HISTORY_MIGRATIONS)]
        progress("whole corpus warm vs cold vs squawk")
        rows += warm_corpus_rows(corpus, ctx)
        progress(f"the history cache at {size:,} files")
        points = [scale_point(size, seed, workdir, ctx, with_cache=True)]
    plural = "run" if runs == 1 else "runs"
    header = ["## mobius-sqlcheck benchmark: the history cache (--only cache)", "",
              f"{runs} {plural} per measurement, seed {seed}; {tool_versions()}.", ""]
    return header + comparison_table(rows) + ["", "### The history cache at scale", ""] + cache_lines(points)


def run_benchmark(files: int, runs: int, seed: int, quick: bool) -> list[str]:
    """Generate the corpora, measure every row, and return the report's lines."""
    format_files, scale_sizes = (10, [20, 40]) if quick else (200, [100, 1_000, 10_000])
    with tempfile.TemporaryDirectory(prefix="mobius-bench-") as tmp:
        workdir = Path(tmp)
        ctx = make_context(workdir, runs)
        corpus, format_corpus = workdir / "corpus", workdir / "format-corpus"
        progress(f"generating {files} migrations (+ rollbacks) with seed {seed}")
        generate(corpus, files, seed, rollbacks=True)
        generate(format_corpus, format_files // 2, seed, rollbacks=True)
        rows = timed_rows(
            [
                ("whole corpus (cold cache) vs squawk", lambda: squawk_row(corpus, ctx)),
                ("whole corpus vs parse floor", lambda: floor_row(corpus, ctx)),
                ("single-file hook vs import pglast",
                 lambda: hook_row(f"hook, {corpus_label(corpus)}: lint one file / python -c 'import pglast'",
                                  hook_file(corpus), ctx)),
                ("hook in this repository vs import pglast",
                 lambda: hook_row("hook, Mobius repo (12 files): lint 005 / python -c 'import pglast'",
                                  REPOSITORY_HOOK_FILE, ctx)),
                ("layout detection on the hook", lambda: detection_row(REPOSITORY_HOOK_FILE, ctx)),
                ("format check cold vs warm", lambda: format_row(format_corpus, ctx)),
                ("hook on a warm 3,000-file history vs import pglast",
                 lambda: warm_hook_row(seed, workdir, ctx, 10 if quick else HOOK_HISTORY_MIGRATIONS)),
                ("editor server on a warm 3,000-file history vs the hook", lambda: _server_row(seed, workdir, ctx, quick)),
            ]
        )
        progress("whole corpus warm vs cold vs squawk")
        rows += warm_corpus_rows(corpus, ctx)
        points = []
        for size in scale_sizes:
            progress(f"scaling: {size:,} files")
            points.append(scale_point(size, seed, workdir, ctx, with_cache=size == scale_sizes[-1]))
    title = "## mobius-sqlcheck benchmark" + (" (--quick: tiny sizes, numbers not meaningful)" if quick else "")
    plural = "run" if runs == 1 else "runs"
    header = [title, "", f"{runs} {plural} per measurement, seed {seed}; {tool_versions()}.", ""]
    return (header + comparison_table(rows) + ["", "### Scaling (cold cache)", ""] + scaling_table(points)
            + ["", "### The history cache at scale", ""] + cache_lines(points))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="Benchmark mobius-sqlcheck lint.")
    parser.add_argument(
        "--files", type=int, default=2000, help="migrations in the main corpus, each with a rollback (default %(default)s)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="corpus seed (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run: 20 migrations, 1 run, small scaling sizes")
    parser.add_argument("--only", choices=["cache"],
                        help="cache: only the history cache's rows (warm hook, warm whole corpus, 10,000 files)")
    args = parser.parse_args(argv)
    files, runs = (20, 1) if args.quick else (args.files, args.runs)
    if files < 1 or runs < 1:
        parser.error("--files and --runs must be at least 1")
    benchmark = run_cache_benchmark if args.only == "cache" else run_benchmark
    print("\n".join(benchmark(files, runs, args.seed, args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

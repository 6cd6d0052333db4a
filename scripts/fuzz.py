"""The long fuzz run of the lint pipeline (the suite runs a short one:
tests/test_fuzz.py). Same inputs and invariants (tests/fuzzing.py).

    .venv/bin/python scripts/fuzz.py --minutes 10                    # hypothesis
    .venv/bin/python scripts/fuzz.py --minutes 10 --engine atheris   # libFuzzer, coverage-guided

hypothesis: batches of random cases (mutated real migrations, statement
mixes, deep nesting, random bytes) until the time is up; a failing case is
shrunk, saved into tests/fuzz_corpus/ and the run exits 1.

atheris (`pip install atheris`): libFuzzer mutates bytes, guided by the
coverage of mobius_sqlcheck's Python code, starting from the seed migrations.
An input is one migration; the part after a line `--8<-- rollback` is its
rollback file. A failing input is saved into tests/fuzz_corpus/ and the run
stops (libFuzzer also writes its crash-* file in the working directory).

Exit status: 0 when nothing was found, 1 when a case was saved.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ROLLBACK_MARK = b"\n--8<-- rollback\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, required=True, help="how long to fuzz")
    parser.add_argument("--engine", choices=("hypothesis", "atheris"), default="hypothesis")
    parser.add_argument("--batch", type=int, default=500, help="hypothesis examples per batch (default 500)")
    args = parser.parse_args(argv)
    seconds = max(1, int(args.minutes * 60))
    if args.engine == "atheris":
        return fuzz_with_atheris(seconds)
    return fuzz_with_hypothesis(seconds, args.batch)


# -- hypothesis ----------------------------------------------------------------------


def fuzz_with_hypothesis(seconds: int, batch: int) -> int:
    from hypothesis import Phase, given, settings

    from tests.fuzzing import LONG, cases, check_case, save_crasher

    examples = 0
    failing: list[dict[str, bytes]] = []

    @settings(LONG, max_examples=batch, database=None, phases=[Phase.generate, Phase.shrink])
    @given(cases())
    def one_case(files: dict[str, bytes]) -> None:
        nonlocal examples
        examples += 1
        try:
            check_case(files)
        except BaseException:
            failing.append(files)  # the last one is the shrunk case hypothesis reports
            raise

    started = time.monotonic()
    batches = 0
    while time.monotonic() - started < seconds:
        batches += 1
        try:
            one_case()
        except Exception:  # noqa: BLE001 - report any failure, then stop
            traceback.print_exc()
            saved = save_crasher(failing[-1])
            print(f"FOUND: a failing case, saved in {saved.relative_to(REPO)} "
                  f"after {examples} examples in {time.monotonic() - started:.0f} s")
            return 1
        elapsed = time.monotonic() - started
        print(f"{elapsed:7.0f} s  {examples} examples ({batches} batches), no failure", flush=True)
    print(f"DONE: hypothesis, {examples} examples in {time.monotonic() - started:.0f} s, no failure")
    return 0


# -- atheris -------------------------------------------------------------------------


def fuzz_with_atheris(seconds: int) -> int:
    try:
        import atheris
    except ImportError:
        print("atheris is not installed: .venv/bin/pip install atheris", file=sys.stderr)
        return 2
    with atheris.instrument_imports(include=["mobius_sqlcheck"]):
        from tests.fuzzing import check_case, save_crasher, seed_files

    def one_input(data: bytes) -> None:
        forward, mark, rollback = data.partition(ROLLBACK_MARK)
        files = {"001_fuzz.sql": forward}
        if mark:
            files["001_fuzz_rollback.sql"] = rollback
        try:
            check_case(files)
        except BaseException:
            saved = save_crasher(files)
            print(f"FOUND: a failing input, saved in {saved.relative_to(REPO)}", flush=True)
            raise

    seeds = tempfile.mkdtemp(prefix="mobius-fuzz-seeds-")
    for number, data in enumerate(seed_files()):
        Path(seeds, f"seed{number:03d}").write_bytes(data)
    migrations = sorted((REPO / "migrations").glob("*.sql"))
    forwards = [path for path in migrations if not path.stem.endswith("_rollback")]
    for number, forward in enumerate(forwards):
        rollback = forward.with_name(forward.stem + "_rollback.sql")
        if rollback.exists():
            Path(seeds, f"pair{number:03d}").write_bytes(forward.read_bytes() + ROLLBACK_MARK + rollback.read_bytes())
    print(f"atheris for {seconds} s from {len(os.listdir(seeds))} seeds in {seeds}", flush=True)
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", "-timeout=120", "-rss_limit_mb=8192",
                   "-max_len=65536", "-print_final_stats=1", seeds], one_input)
    atheris.Fuzz()  # exits the process: libFuzzer prints the run count and time
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

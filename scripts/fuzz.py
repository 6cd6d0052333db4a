"""The long fuzz run of the lint pipeline (the suite runs a short one:
tests/test_fuzz.py). Same inputs and invariants (tests/fuzzing.py).

    .venv/bin/python scripts/fuzz.py --minutes 10                    # hypothesis
    .venv/bin/python scripts/fuzz.py --minutes 10 --engine atheris   # libFuzzer, coverage-guided
    .venv/bin/python scripts/fuzz.py --minutes 10 --target secrets   # the password property

--target secrets: the property of tests/secrets_property.py (no piece of any
password in any output, every direct connection reported) over random
passwords, through the lint, a closed port and, when PgBouncer is installed,
a real PgBouncer (started here, as tests/conftest.py does) that
refuses the password. A failing password is printed and the run exits 1.

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
    parser.add_argument("--target", choices=("lint", "secrets"), default="lint",
                        help="lint: the pipeline never crashes (default); secrets: no password in any output")
    args = parser.parse_args(argv)
    seconds = max(1, int(args.minutes * 60))
    if args.target == "secrets":
        return fuzz_secrets(seconds, min(args.batch, 50))
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


# -- the password property ------------------------------------------------------------


def fuzz_secrets(seconds: int, batch: int) -> int:
    from hypothesis import HealthCheck, Phase, given, settings

    from mobius_sqlcheck.applier import ephemeral
    from tests.applier.helpers import PASSWORD
    from tests.secrets_property import PASSWORDS, check_database, check_lint, database_vocabulary, lint_vocabulary

    servers = ephemeral.start(with_pooler=True, password=PASSWORD) if ephemeral.find_pgbouncer() else None
    targets = [f"127.0.0.1:{ephemeral.free_port()}"] + ([f"127.0.0.1:{servers.pooler_port}"] if servers else [])
    print(f"secrets for {seconds} s: lint and {', '.join(targets)}"
          + ("" if servers else " (no PgBouncer installed: closed port only)"), flush=True)
    vocabularies = {"lint": lint_vocabulary(), **{t: database_vocabulary(t) for t in targets}}
    examples = 0

    @settings(max_examples=batch, deadline=None, database=None, phases=[Phase.generate, Phase.shrink],
              suppress_health_check=[HealthCheck.too_slow])
    @given(PASSWORDS)
    def one_password(password: str) -> None:
        nonlocal examples
        examples += 1
        check_lint(password, vocabularies["lint"])
        for target in targets:
            check_database(password, target, vocabularies[target])

    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            try:
                one_password()
            except Exception:  # noqa: BLE001 - report the shrunk failure, then stop
                traceback.print_exc()
                print(f"FOUND: a leaking password after {examples} examples")
                return 1
            print(f"{time.monotonic() - started:7.0f} s  {examples} passwords, no leak", flush=True)
    finally:
        if servers:
            servers.stop()
    print(f"DONE: secrets, {examples} passwords in {time.monotonic() - started:.0f} s, no leak")
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

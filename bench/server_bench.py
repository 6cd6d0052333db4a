"""The editor's latency: `didChange` on the newest migration of a
3,000-file history -> its `publishDiagnostics`, with a warm history cache,
against the CLI's one-file hook on the same file in the same run.

The server is the real `mobius-sqlcheck server` subprocess, spoken to over
its stdio in plain JSON-RPC frames (a client library would add its own
cost). The debounce is set to 0 through initializationOptions, so the row
measures the work; an editor adds the 0.2 s debounce on top while typing.

    .venv/bin/python -m bench.server_bench [--migrations 1500] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from bench.corpus import DEFAULT_SEED, generate
from bench.run import (
    HOOK_HISTORY_MIGRATIONS,
    LINT_EXIT_CODES,
    PYTHON,
    TARGET_HOOK,
    CommandFailed,
    Context,
    Row,
    Sample,
    Timing,
    checked,
    comparison_table,
    corpus_label,
    empty_cache,
    lint_cmd,
    make_context,
    missing_row,
)

READY_SECONDS = 600  # liveness bound for one answer (a cold 3,000-file history is judged once first)


class Client:
    """Just enough of an LSP client to time one notification's answer."""

    def __init__(self, ctx: Context) -> None:
        self.process = subprocess.Popen([PYTHON, "-m", "mobius_sqlcheck", "server"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ctx.cwd, env=ctx.env)
        self.next_id = 0

    def send(self, method: str, params: Any, request: bool = False) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        stdin: IO[bytes] = self.process.stdin  # type: ignore[assignment]
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()
        return message.get("id")

    def read(self) -> dict:
        stdout: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        length = 0
        while True:
            line = stdout.readline()
            if not line:
                raise RuntimeError("the server closed its output")
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif line in (b"\r\n", b"\n") and length:
                return json.loads(stdout.read(length))

    def until(self, test) -> dict:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            message = self.read()
            if test(message):
                return message
        raise RuntimeError("no answer in time")

    def close(self) -> None:
        try:
            self.send("shutdown", None, request=True)
            self.send("exit", None)
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


def _published(uri: str, version: int):
    def test(message: dict) -> bool:
        params = message.get("params") or {}
        return (message.get("method") == "textDocument/publishDiagnostics" and params.get("uri") == uri
                and params.get("version") == version)
    return test


def server_row(seed: int, workdir: Path, ctx: Context, migrations: int = HOOK_HISTORY_MIGRATIONS) -> Row:
    history = workdir / "server-history"
    generate(history, migrations, seed, rollbacks=True)
    label = (f"editor, {corpus_label(history)} + 1 new migration, warm cache: "
             "didChange -> publishDiagnostics / CLI hook on that file")
    newest = history / f"{migrations + 1:04d}_appended_change.sql"

    def text(round_number: int) -> str:
        return (f"-- round {round_number}\nCREATE TABLE appended_change (id bigint PRIMARY KEY);\n"
                "ALTER TABLE appended_change ENABLE ROW LEVEL SECURITY;\n")

    newest.write_text(text(0), encoding="utf-8")
    uri = newest.resolve().as_uri()
    client = None
    try:
        empty_cache(ctx)
        checked(lint_cmd("--format", "json", str(history)), ctx, LINT_EXIT_CODES)  # warm the cache
        client = Client(ctx)
        client.send("initialize", {"processId": os.getpid(), "rootUri": history.resolve().as_uri(), "capabilities": {},
                                   "initializationOptions": {"debounceSeconds": 0}}, request=True)
        client.until(lambda m: m.get("id") == 1)
        client.send("initialized", {})
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "sql", "version": 0,
                                                              "text": text(0)}})
        client.until(_published(uri, 0))
        served, hooked = [], []
        for round_number in range(1, ctx.runs + 2):
            started = time.perf_counter()
            client.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": round_number},
                                                   "contentChanges": [{"text": text(round_number)}]})
            client.until(_published(uri, round_number))
            seconds = time.perf_counter() - started
            newest.write_text(text(round_number) + "-- hook\n", encoding="utf-8")  # new bytes: not cached
            hook = checked(lint_cmd(str(newest)), ctx, LINT_EXIT_CODES)
            if round_number > 1:  # the first round of each is a warm-up
                served.append(Sample(seconds, 0, 0, ""))
                hooked.append(hook)
    except (CommandFailed, RuntimeError, OSError) as error:
        return missing_row(label, f"failed ({error})", TARGET_HOOK)
    finally:
        if client is not None:
            client.close()
        shutil.rmtree(history)
    served_timing, hook_timing = Timing(served), Timing(hooked)
    ratio = served_timing.median / hook_timing.median
    from bench.run import fmt_timing

    return Row(label, fmt_timing("server", served_timing), fmt_timing("hook", hook_timing), f"{ratio:.2f}x", "—", "—")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--migrations", type=int, default=HOOK_HISTORY_MIGRATIONS,
                        help="forward migrations, each with a rollback (default %(default)s: 3,000 files)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mobius-server-bench-") as tmp:
        ctx = make_context(Path(tmp), args.runs)
        row = server_row(args.seed, Path(tmp), ctx, args.migrations)
    print("\n".join(comparison_table([row])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

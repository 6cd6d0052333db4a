"""The per-file work of a long history on the other cores, beside the replay.

The replay must stay in one process and in order (each statement is checked
against the catalog the statements before it built), but part of checking a
file does not need the catalog: libpg_query's parse itself, and the rules
that say `CATALOG_FREE = True` (naming, session and transaction rules, the
identifier scans). Worker processes do that part, a batch of files at a
time, ahead of the main process, and send back little: libpg_query's JSON of
each text they parsed (a string: the main process decodes it instead of
parsing the file again), their findings as plain tuples, and the file's
bytes (the main process does not read it again). The main
process reads, decodes, replays and runs the other rules.

Workers are forked, so they start with every module imported and the run's
settings and file list in memory: nothing is sent to them. Each writes its
batches (every `count`-th one), marshalled, to its own pipe; the main
process reads a batch when it reaches its first file. No thread: a thread in
the main process (concurrent.futures' manager, a read-ahead) holds the GIL
at the wrong moments and was measured to cost more than it saved. A pool is
started only where it pays: at least `sources.MIN_POOL_FILES` files to
check, a spare core that is idle (by the load average), and no other thread
in the process (forking a threaded process is unsafe). The one-file hook never imports this module.

A worker that dies (a rule calling os._exit, a crash in C) loses its batch:
each file of the batch gets an MSC004 saying so, the workers are stopped,
and the main process checks every later file itself.
"""

from __future__ import annotations

import marshal
import os
import signal
import sys
import threading
from typing import BinaryIO, NamedTuple

from mobius_sqlcheck.catalog import Catalog
from mobius_sqlcheck.context import FileContext, StatementContext
from mobius_sqlcheck.lint.pipeline import Run, embedded
from mobius_sqlcheck.lint.selection import INTERNAL_ERROR
from mobius_sqlcheck.lint.sources import MIN_POOL_FILES, DiskSources, UnitKey, read_unit
from mobius_sqlcheck.migrations import MigrationFile, MigrationSet, has_no_transaction_directive
from mobius_sqlcheck.parse import Parses, fast_decoder, parse_source
from mobius_sqlcheck.source import SourceFile

MAX_WORKERS = 2
BATCH = 16  # files per batch: fewer, larger writes; a lost worker loses little
_PIPE_BYTES = 1 << 20  # lets a worker run a few batches ahead before its write blocks
_HEADER = 8  # a batch's byte length, before it

# (code, path, start, end, message, hint): a finding, without its Rule object.
PlainFinding = tuple[str, str, int, "int | None", str, "str | None"]


class FileWork(NamedTuple):
    """What a worker did for one file."""

    parses: Parses  # libpg_query's JSON of each text parsed for it
    findings: list[PlainFinding]
    internal_errors: int
    data: bytes | None = None  # a whole file from the disk, as read (the main process does not read it again)


class _Job(NamedTuple):
    run: Run
    migration_set: MigrationSet
    units: list[MigrationFile]


class _Worker(NamedTuple):
    pid: int
    pipe: BinaryIO


def spare_cores() -> int:
    """The cores this process may use, less the one the main process keeps busy."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores - 1


def idle_cores() -> float:
    """Cores no process is using, by the 1-minute load average (this run's
    main process counts in it). A worker on a busy machine only takes CPU
    from the main process: measured slower on a 2-core machine at load 3-4."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return float(spare_cores())
    return spare_cores() + 1 - max(load, 1.0)


def start(run: Run, migration_set: MigrationSet, units: list[MigrationFile]) -> FileWorkers | None:
    """Workers checking `units` (in the order the main process will ask for
    them), or None where they would not pay or are not safe."""
    # Linux only: macOS's system libraries are not safe to use after a fork
    # (Python's multiprocessing spawns there), and Windows cannot fork.
    if len(units) < MIN_POOL_FILES or threading.active_count() > 1 or not sys.platform.startswith("linux"):
        return None
    # A worker's share is about half the main process's, so one keeps up;
    # at most MAX_WORKERS (more was never measured: this machine has 2 cores).
    count = min(MAX_WORKERS, -(-len(units) // BATCH), int(idle_cores() + 0.5))
    if count < 1:
        return None
    try:
        return FileWorkers(_Job(run, migration_set, units), count)
    except OSError:
        return None  # no process or pipe to be had (a process limit): the main process does it all


class FileWorkers:
    """The workers of one migrations directory's run; `take` hands out each
    file's work in order."""

    def __init__(self, job: _Job, count: int) -> None:
        self._job = job
        self._position = {unit.key: index for index, unit in enumerate(job.units)}
        self._done: dict[int, FileWork] = {}
        self._workers: list[_Worker] = []
        try:
            for number in range(count):
                self._workers.append(_fork(job, number, count, self._workers))
        except OSError:
            self.close()
            raise

    def take(self, key: UnitKey) -> FileWork | None:
        """The work done for the file of `key`, or None: the main process checks it all itself."""
        index = self._position.pop(key, None)
        if index is None:
            return None
        if index not in self._done and self._workers:
            self._receive(index // BATCH)
        return self._done.pop(index, None)

    def _receive(self, batch: int) -> None:
        """Read the worker's batches, in its order, up to `batch` (each says
        which it is: one the main process never asked for is skipped over)."""
        worker = self._workers[batch % len(self._workers)]
        received = -1
        while received < batch:
            try:
                header = _read_exactly(worker.pipe, _HEADER)
                received, results = marshal.loads(_read_exactly(worker.pipe, int.from_bytes(header, "little")))
            except (EOFError, ValueError, TypeError):
                self._workers.remove(worker)  # reaped here: close() must not signal its pid again
                worker.pipe.close()
                self._lost(batch, _stopped(worker))
                return
            for offset, work in enumerate(results):
                self._done[received * BATCH + offset] = FileWork(*work)

    def _lost(self, batch: int, why: str) -> None:
        """The batch's files are reported, not checked again here: that
        might stop the whole run the way it stopped the worker."""
        self.close()
        message = (f"a worker process stopped ({why}) while checking this file or another of its batch; "
                   f"the rules that run there did not check it")
        for index in range(batch * BATCH, min((batch + 1) * BATCH, len(self._job.units))):
            self._done[index] = FileWork({}, [(INTERNAL_ERROR, self._job.units[index].path, 0, None, message,
                                               None)], 1)

    def close(self) -> None:
        """Stop the workers (finished ones are only reaped)."""
        for worker in self._workers:
            worker.pipe.close()
            os.kill(worker.pid, signal.SIGKILL)  # not reaped yet, so the pid is still this worker's
            os.waitpid(worker.pid, 0)
        self._workers = []


def _read_exactly(pipe: BinaryIO, size: int) -> bytes:
    data = pipe.read(size)
    if len(data) != size:
        raise EOFError(f"{len(data)} of {size} bytes")
    return data


def _stopped(worker: _Worker) -> str:
    """How a worker ended, for the MSC004 message (one alive but talking
    nonsense is stopped first, so this never waits)."""
    os.kill(worker.pid, signal.SIGKILL)  # a zombie until reaped: its own exit code stays
    _, status = os.waitpid(worker.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return f"exit code {code}" if code >= 0 else f"signal {-code}"


def _fork(job: _Job, number: int, count: int, started: list[_Worker]) -> _Worker:
    read_end, write_end = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # the default size only makes the worker wait for the main process sooner
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # the worker: never returns
        code = 1
        try:
            os.close(read_end)
            for worker in started:
                worker.pipe.close()
            _serve(job, number, count, write_end)
            code = 0
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
    os.close(write_end)
    return _Worker(pid, os.fdopen(read_end, "rb"))


# -- in the worker ---------------------------------------------------------------------


def _serve(job: _Job, number: int, count: int, pipe: int) -> None:
    """Check batches number, number + count, ... and write each to `pipe`."""
    for batch in range(number, -(-len(job.units) // BATCH), count):
        units = job.units[batch * BATCH:(batch + 1) * BATCH]
        data = marshal.dumps((batch, [tuple(check_unit(job.run, job.migration_set, unit)) for unit in units]))
        view = memoryview(len(data).to_bytes(_HEADER, "little") + data)
        while view:
            view = view[os.write(pipe, view):]


def check_unit(run: Run, migration_set: MigrationSet, migration: MigrationFile) -> FileWork:
    """The catalog-free checks of one file, as pipeline._lint_file runs them."""
    run.raw, run.internal_errors, run.deep_statements = [], 0, set()
    parses: Parses = {}
    source = read_unit(run.provider, migration.key)
    parsed = None
    if isinstance(source, SourceFile):
        parsed = parse_source(source, fast_decoder(), parses)
        no_transaction = not migration.in_transaction or has_no_transaction_directive(source.text)
        context = StatementContext(run.config, source, migration, Catalog(), parsed.statements,
                                   no_transaction=no_transaction, layout=migration_set.layout)
        for outer in parsed.statements:
            for statement in [outer, *embedded(outer, parsed)]:
                for rule in run.rules.statement_rules(statement.node_type, catalog_free=True):
                    run.call(rule, migration.path, statement.start, statement, context)
    file_context = FileContext(run.config, migration, source if isinstance(source, SourceFile) else None,
                               parsed, migration_set)
    for rule in run.rules.by_scope.get("file", ()):
        if rule.catalog_free:
            run.call(rule, migration.path, 0, file_context)
    findings = [(raw.rule.code, raw.path, raw.start, raw.end, raw.message, raw.hint) for raw in run.raw]
    whole = isinstance(source, SourceFile) and not migration.is_section and type(run.provider) is DiskSources
    data = source.data if whole and isinstance(source, SourceFile) else None
    return FileWork(parses, findings, run.internal_errors, data)

"""Check or fix many files: cache lookups first, then sqlfluff on the rest,
in a process pool when there are enough of them to pay for one."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mobius_sqlcheck.formatting import cache
from mobius_sqlcheck.formatting.fingerprint import config_fingerprint, tool_fingerprint

if TYPE_CHECKING:
    from concurrent.futures import Executor

# A worker imports sqlfluff (~0.5 s) before its first file (~50 ms each), so a
# pool only pays off from a few dozen files; below that, one process is faster.
MIN_FILES_PER_WORKER = 12


@dataclass(frozen=True)
class Settings:
    extra_config: str | None = None  # an explicit sqlfluff config file, layered last
    cache_dir: str = field(default_factory=cache.cache_dir)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)


@dataclass(frozen=True)
class Violation:
    code: str
    line: int  # 1-based, in characters, as sqlfluff reports them
    column: int
    end_line: int
    end_column: int
    description: str
    fixable: bool


@dataclass
class FileResult:
    violations: list[Violation] = field(default_factory=list)
    fixed: str | None = None  # fix mode: the new text (LF line ends), None if unchanged
    error: str | None = None
    config_error: bool = False
    cached: bool = False


@dataclass
class _Task:
    path: str
    text: str
    key: str


def check_texts(texts: dict[str, str], settings: Settings) -> dict[str, FileResult]:
    """sqlfluff's violations for each path -> text (LF line ends)."""
    return _run(texts, "check", settings)


def fix_texts(texts: dict[str, str], settings: Settings) -> dict[str, FileResult]:
    """sqlfluff's fixed text for each path -> text (LF line ends)."""
    return _run(texts, "fix", settings)


def _run(texts: dict[str, str], mode: str, settings: Settings) -> dict[str, FileResult]:
    results: dict[str, FileResult] = {}
    pending: list[_Task] = []
    for path, text in texts.items():
        key = cache_key(path, text, mode, settings)
        hit = cache.get(settings.cache_dir, key)
        if hit is not None:
            results[path] = _result(hit, cached=True)
        else:
            pending.append(_Task(path, text, key))
    for task, raw in zip(pending, _process_all(pending, mode, settings)):
        if "error" not in raw:
            cache.put(settings.cache_dir, task.key, raw)
        results[task.path] = _result(raw, cached=False)
    return results


def cache_key(path: str, text: str, mode: str, settings: Settings) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    parts = [tool_fingerprint(), config_fingerprint(directory, settings.extra_config), mode,
             hashlib.sha256(text.encode("utf-8")).hexdigest()]
    return hashlib.sha256("\0".join(parts).encode("ascii")).hexdigest()


def _process_all(tasks: list[_Task], mode: str, settings: Settings) -> list[dict]:
    from mobius_sqlcheck.formatting import worker  # imports sqlfluff lazily, on first use

    jobs = [(task.path, task.text, mode, settings.extra_config) for task in tasks]
    workers = min(settings.workers, len(jobs) // MIN_FILES_PER_WORKER)
    if workers < 2:
        return [worker.process(job) for job in jobs]
    chunk = max(1, len(jobs) // (workers * 4))  # small chunks even out slow files
    with process_pool(workers) as pool:
        return list(pool.map(worker.process, jobs, chunksize=chunk))


def process_pool(workers: int) -> Executor:
    # Imported here: concurrent.futures costs ~0.1 s, and a warm run needs no pool.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Not fork: the lint engine may have threads running and the cycle
    # collector off, and a forked worker would inherit both. Workers import
    # sqlfluff themselves either way, so a fresh interpreter costs little.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _result(raw: dict, cached: bool) -> FileResult:
    return FileResult(
        violations=[Violation(*item) for item in raw.get("violations", [])],
        fixed=raw.get("fixed"),
        error=raw.get("error"),
        config_error=bool(raw.get("config_error")),
        cached=cached,
    )

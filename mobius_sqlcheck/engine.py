"""The lint pipeline: read -> parse -> replay into the catalog -> rules ->
suppressions and config -> diagnostics (the reporters print them).

Data flows one way. `lint_paths` groups the paths the user gave into
migrations directories (linted as a whole, since order and history matter, but
reported only for the files given) and other files (SQL outside a migrations
directory is syntax-checked; any text file gets the text rules, such as the
connection-string scan).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple

from mobius_sqlcheck.catalog import Catalog, ObjectRef, Origin
from mobius_sqlcheck.config import Config
from mobius_sqlcheck.context import (
    FileContext,
    HistoryContext,
    MigrationsContext,
    RollbackContext,
    StatementContext,
    TextContext,
)
from mobius_sqlcheck.errors import OperationFailed
from mobius_sqlcheck.diagnostics import Diagnostic, Finding, redacted
from mobius_sqlcheck.migrations import (
    MigrationFile,
    MigrationSet,
    build_migration_set,
    has_no_transaction_directive,
    is_migrations_directory,
    list_sql_files,
)
from mobius_sqlcheck.replay import Replayed, ReplayFailure, replay, replay_statement
from mobius_sqlcheck.parse import TOO_DEEP, Decoder, ParsedFile, Statement, fast_decoder, nesting_depth, parse_source
from mobius_sqlcheck.rules import Registry, Rule, all_rules, expand_selectors
from mobius_sqlcheck.source import ReadProblem, SourceFile, read_source
from mobius_sqlcheck.suppressions import Suppression, find_suppressions

if TYPE_CHECKING:
    from concurrent.futures import Future

    from mobius_sqlcheck.cache.history import HistoryCache
    from mobius_sqlcheck.cache.store import Store

# Directories never worth walking into when a directory is given.
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
              ".hypothesis", ".tox", "build", "dist", ".mobius_sqlcheck_cache"}
# Files scanned by the text rules when found by walking a directory.
_TEXT_SUFFIXES = (".env", ".yaml", ".yml", ".toml", ".py", ".sh", ".bash", ".md", ".json", ".ini",
                  ".cfg", ".conf", ".txt", ".js", ".ts", ".properties", ".tf", ".example")


INTERNAL_ERROR = "MSC004"
# Parse-tree depth (dicts and lists) past which a RecursionError is the
# input's fault; real migrations stay under 60.
_DEEP_TREE = 150


class LintResult:
    def __init__(self, diagnostics: list[Diagnostic] | None = None, files: int = 0, internal_errors: int = 0,
                 rules: Registry | None = None) -> None:
        self.diagnostics: list[Diagnostic] = diagnostics or []
        self.files = files
        self.internal_errors = internal_errors
        self.rules: Registry = all_rules() if rules is None else rules  # the registry the run used
        self.notices: list[str] = []  # one line each, for stderr (e.g. a cache that cannot be written)

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")

    @property
    def warning_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "warning")


class _Raw(NamedTuple):
    """A finding with its rule, before suppressions: offsets are still bytes."""

    rule: Rule
    path: str
    start: int
    end: int | None
    message: str
    hint: str | None


class ActiveRules:
    """The rules this run uses (after select/ignore/severity), by scope."""

    def __init__(self, config: Config, rules: Registry) -> None:
        self.all = rules
        selected = expand_selectors(config.select, "select", rules) if config.select else None
        # Off-by-default rules are switched on by their exact code, not by a prefix.
        named = {selector.strip().upper() for selector in config.select}
        ignored = expand_selectors(config.ignore, "ignore", rules)
        chosen = severity_by_code(config.severity, rules)
        self.severity: dict[str, str] = {}
        for code, rule in rules.items():
            level = chosen.get(code)
            if level is None:
                level = rule.severity
                if selected is not None:
                    if code not in selected:
                        level = "off"
                    elif level == "off" and code in named:
                        level = "warning"
            if code in ignored:
                level = "off"
            self.severity[code] = level
        # A rule that crashed checked nothing: that is never silenced.
        if INTERNAL_ERROR in rules:
            self.severity[INTERNAL_ERROR] = "error"
        self.enabled = {code: rule for code, rule in rules.items() if self.severity[code] != "off"}
        self.by_scope: dict[str, list[Rule]] = {}
        for rule in self.enabled.values():
            self.by_scope.setdefault(rule.scope, []).append(rule)
        self.by_node_type: dict[str, list[Rule]] = {}
        for rule in self.by_scope.get("statement", ()):
            for node_type in rule.node_types:
                self.by_node_type.setdefault(node_type, []).append(rule)
        self.for_every_statement = self.by_node_type.pop("*", [])
        self._merged: dict[str, list[Rule]] = {}

    def statement_rules(self, node_type: str) -> list[Rule]:
        rules = self._merged.get(node_type)
        if rules is None:  # once per statement type, not once per statement
            rules = self._merged[node_type] = self.by_node_type.get(node_type, []) + self.for_every_statement
        return rules

    def is_on(self, code: str) -> bool:
        return code in self.enabled


def severity_by_code(severity: Mapping[str, str], rules: Registry) -> dict[str, str]:
    """The `severity` table with its keys expanded like select/ignore: a
    prefix (MSC6) sets every rule it matches; a longer key (MSC602) wins."""
    by_code: dict[str, str] = {}
    for key in sorted(severity, key=lambda selector: (selector.strip().upper() != "ALL", len(selector.strip()))):
        for code in expand_selectors([key], f"severity.{key}", rules):
            by_code[code] = severity[key]
    return by_code


class Run:
    """State of one lint run: collects raw findings from every stage."""

    def __init__(self, config: Config, rules: Registry) -> None:
        self.config = config
        self.rules = ActiveRules(config, rules)
        self.raw: list[_Raw] = []
        self.sources: dict[str, SourceFile] = {}
        self.suppressions: dict[str, list[Suppression]] = {}
        self.read_problems: dict[str, ReadProblem] = {}  # unreadable files keep their own line/column
        self.reported: set[str] = set()
        self.internal_errors = 0
        self.deep_statements: set[tuple[str, int]] = set()
        self.store: Store | None = None  # the history cache, when on

    # -- recording --------------------------------------------------------

    def add(self, code: str, path: str, start: int, message: str, end: int | None = None,
            hint: str | None = None) -> None:
        rule = self.rules.enabled.get(code)
        if rule is not None:
            self.raw.append(_Raw(rule, path, start, end, message, hint or rule.default_hint))

    def call(self, rule: Rule, default_path: str, at: int, *args: object) -> None:
        """Run `rule.check(*args)`; a rule that raises (even SystemExit)
        becomes MSC004 at `at` (its findings so far are dropped), and the run
        goes on."""
        found = []
        try:
            for finding in rule.check(*args):
                found.append(_Raw(rule, finding.path or default_path, finding.start, finding.end,
                                  finding.message, finding.hint or rule.default_hint))
        except (Exception, SystemExit) as error:  # noqa: BLE001 - isolating a faulty rule is the point
            statement = args[0] if args and isinstance(args[0], Statement) else None
            if not self.too_deep(error, default_path, statement):
                self.internal_error(default_path, at, f"rule {rule.code} ({rule.name}) failed here", error)
            return
        self.raw.extend(found)

    def replay_failed(self, failure: ReplayFailure) -> None:
        if not self.too_deep(failure.error, failure.path, failure.statement):
            self.internal_error(failure.path, failure.statement.start,
                                "the catalog could not replay this statement", failure.error)

    def internal_error(self, path: str, at: int, what: str, error: BaseException) -> None:
        self.internal_errors += 1
        self.add(INTERNAL_ERROR, path, at, f"{what}: {type(error).__name__}: {error}",
                 hint="This is a bug in mobius-sqlcheck; the other findings are still reported.")

    def too_deep(self, error: BaseException, path: str, statement: Statement | None) -> bool:
        """A RecursionError on a statement nested hundreds of levels deep is
        the input's limit, not a bug: reported once, as MSC001 (like the
        "stack depth limit exceeded" of PostgreSQL's parser a little deeper)."""
        if not isinstance(error, RecursionError) or statement is None:
            return False
        if nesting_depth(statement.node) < _DEEP_TREE:
            return False
        if (path, statement.start) not in self.deep_statements:
            self.deep_statements.add((path, statement.start))
            self.add("MSC001", path, statement.start, TOO_DEEP)
        return True

    # -- reading ----------------------------------------------------------

    def read(self, path: str, report: bool = True) -> SourceFile | ReadProblem:
        return self.record_read(read_source(path), report)

    def record_read(self, source: SourceFile | ReadProblem, report: bool = True) -> SourceFile | ReadProblem:
        if isinstance(source, ReadProblem) and report:
            self.add("MSC002", source.path, 0, source.message, hint=source.hint)
            self.read_problems[source.path] = source
        return source

    def source_for(self, path: str) -> SourceFile | None:
        """The file's text for positions: kept when it has findings, else read again."""
        if path not in self.sources:
            source = read_source(path)
            if isinstance(source, SourceFile):
                self.sources[path] = source
        return self.sources.get(path)

    def parse(self, source: SourceFile, report: bool = True) -> ParsedFile:
        return self.record_parse(parse_source(source), report)

    def record_parse(self, parsed: ParsedFile, report: bool = True) -> ParsedFile:
        source = parsed.source
        if report:
            for problem in parsed.problems:
                self.add(problem.code, source.path, problem.offset, problem.message, end=problem.end,
                         hint=problem.hint)
            suppressions = find_suppressions(source, parsed.statements)
            if suppressions:
                self.suppressions[source.path] = suppressions
                self.sources[source.path] = source
        return parsed


class SourceLoader(Mapping[str, "SourceFile | ReadProblem"]):
    """The directory's files for set-level rules, read on demand and not kept
    (a long history would not fit in memory twice)."""

    def __init__(self, paths: list[str]) -> None:
        self._paths = paths

    def __getitem__(self, path: str) -> SourceFile | ReadProblem:
        if path not in self._paths:
            raise KeyError(path)
        return read_source(path)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def _read_and_parse(path: str, decode: Decoder) -> tuple[SourceFile | ReadProblem, ParsedFile | None]:
    source = read_source(path)
    return source, parse_source(source, decode) if isinstance(source, SourceFile) else None


class Prefetcher:
    """Reads and parses the files ahead of the one being checked, on a worker
    thread: libpg_query releases the GIL while it parses, so parsing the next
    file overlaps checking this one. A few files are not worth a thread, nor
    orjson's import."""

    WINDOW = 8  # files parsed ahead: bounds the parse trees held in memory
    MIN_FILES = 16

    def __init__(self, paths: list[str]) -> None:
        self._queue = list(reversed(paths))
        self._pending: dict[str, Future] = {}
        self._pool = None
        self._decode: Decoder = json.loads
        if len(paths) >= self.MIN_FILES:
            # Imported here: concurrent.futures costs the one-file hook run ~8 ms.
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, "mobius-parse")
            self._decode = fast_decoder()

    def get(self, path: str) -> tuple[SourceFile | ReadProblem, ParsedFile | None]:
        if self._pool is None:
            return _read_and_parse(path, self._decode)
        while self._queue and len(self._pending) < self.WINDOW:
            upcoming = self._queue.pop()
            self._pending[upcoming] = self._pool.submit(_read_and_parse, upcoming, self._decode)
        future = self._pending.pop(path, None)
        return future.result() if future is not None else _read_and_parse(path, self._decode)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def lint_paths(paths: list[str], config: Config, rules: Registry | None = None,
               cache_dir: str | None = None) -> LintResult:
    """Lint `paths` with `config` and the rules of `rules` (default: the
    built-in ones). Holds no state between calls. With `cache_dir`, the
    history cache there is used and updated (see mobius_sqlcheck.cache)."""
    run = Run(config, all_rules() if rules is None else rules)
    if cache_dir is not None:
        from mobius_sqlcheck.cache.history import tool_version
        from mobius_sqlcheck.cache.store import Store

        run.store = Store(cache_dir, tool_version())
    migration_dirs, sql_files, text_files = _classify_paths(paths, config)
    for directory, given in migration_dirs.items():
        run.reported.update(given)
        _lint_migration_directory(run, directory, given)
    for path in sql_files:
        run.reported.add(path)
        source = run.read(path)
        if isinstance(source, SourceFile):
            run.parse(source)
            _run_text_rules(run, source)
    for path in text_files:
        run.reported.add(path)
        source = run.read(path)
        if isinstance(source, SourceFile):
            _run_text_rules(run, source)
    result = LintResult(_finish(run), files=len(run.reported), internal_errors=run.internal_errors,
                        rules=run.rules.all)
    if run.store is not None:
        run.store.maybe_sweep()
        if run.store.problem:
            result.notices.append(run.store.problem + " (linted without it)")
    return result


# -- path classification ----------------------------------------------------------


def _classify_paths(paths: list[str], config: Config) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Split the user's paths into migrations directories (with the files to
    report), loose SQL files and other text files."""
    migration_dirs: dict[str, list[str]] = {}
    directory_of: dict[str, str] = {}  # absolute directory -> spelling used first
    sql_files: list[str] = []
    text_files: list[str] = []

    def add_sql(path: str) -> None:
        directory = os.path.dirname(path)
        absolute = os.path.abspath(directory or ".")
        if absolute not in directory_of:
            if not is_migrations_directory(directory or ".", config.migrations):
                sql_files.append(path)
                return
            directory_of[absolute] = directory
        migration_dirs.setdefault(directory_of[absolute], []).append(path)

    for path in paths:
        if os.path.isdir(path) and not path.lower().endswith(".sql"):
            for found in _walk(path):
                (add_sql if found.lower().endswith(".sql") else text_files.append)(found)
        elif path.lower().endswith(".sql"):
            add_sql(path)
        else:
            text_files.append(path)
    return migration_dirs, sql_files, text_files


def _walk(directory: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.lower().endswith(".sql") or name.lower().endswith(_TEXT_SUFFIXES) or name.startswith(".env"):
                found.append(os.path.join(root, name))
    return found


# -- migrations ---------------------------------------------------------------------


def _lint_migration_directory(run: Run, directory: str, given: list[str]) -> None:
    """Lint one migrations directory, streaming: each file is read, parsed,
    checked and replayed, then its parse tree is dropped, so memory stays flat
    however long the history."""
    migration_set = build_migration_set(directory or ".", _context_paths(directory, given))
    all_paths = [m.path for m in migration_set.all_files()] + migration_set.other_sql
    context = MigrationsContext(run.config, migration_set, SourceLoader(all_paths), frozenset(given))
    _run_set_rules(run, context)
    pairs = _replay_plan(run, migration_set)
    if run.store is not None:
        catalog = _replay_directory_cached(run, migration_set, pairs)
    else:
        prefetcher = Prefetcher([m.path for pair in pairs for m in pair if m is not None]
                                + [m.path for m in migration_set.orphan_rollbacks])
        try:
            catalog = _replay_directory(run, migration_set, pairs, prefetcher)
        finally:
            prefetcher.close()
    for path in migration_set.other_sql:
        if path in run.reported:
            source = run.read(path)
            if isinstance(source, SourceFile):
                run.parse(source)
    for rule in run.rules.by_scope.get("history", ()):
        first = migration_set.forwards[0].path if migration_set.forwards else directory
        run.call(rule, first, 0, HistoryContext(run.config, migration_set, catalog))


def _replay_plan(run: Run, migration_set: MigrationSet) -> list[tuple[MigrationFile, MigrationFile | None]]:
    """Each forward migration in order, with its rollback when that must be
    checked. A rollback whose pair nobody asked about changes nothing that
    is reported, so the hook run on a new migration skips them all."""
    plan = []
    for forward in migration_set.forwards:
        rollback = migration_set.rollback_for(forward)
        if rollback is not None and forward.path not in run.reported and rollback.path not in run.reported:
            rollback = None
        plan.append((forward, rollback))
    return plan


def _replay_directory(run: Run, migration_set: MigrationSet,
                      plan: list[tuple[MigrationFile, MigrationFile | None]], prefetcher: Prefetcher) -> Catalog:
    catalog = Catalog()
    for forward, rollback in plan:
        created = _lint_file(run, forward, migration_set, catalog, prefetcher)
        if rollback is not None:
            after_rollback = catalog.fork()
            _lint_file(run, rollback, migration_set, after_rollback, prefetcher)
            _check_rollback(run, RollbackContext(run.config, forward, rollback, created, catalog, after_rollback))
    for orphan in migration_set.orphan_rollbacks:
        _lint_file(run, orphan, migration_set, catalog.fork(), prefetcher)
    return catalog


def _check_rollback(run: Run, context: RollbackContext) -> None:
    forward, rollback = context.forward, context.rollback
    if forward.path not in run.reported and rollback.path not in run.reported:
        return
    first_new = len(run.raw)
    for rule in run.rules.by_scope.get("rollback", ()):
        run.call(rule, forward.path, 0, context)
    run.raw[first_new:] = _moved_to_rollback(run, run.raw[first_new:], forward, rollback)


def _moved_to_rollback(run: Run, raws: list[_Raw], forward: MigrationFile, rollback: MigrationFile) -> list[_Raw]:
    """Rollback rules report at the forward file's statements. When only the
    rollback file was given (pre-commit passes the changed files), their
    findings move to the rollback file, naming the place in the forward one."""
    if forward.path in run.reported:
        return raws
    source = run.source_for(forward.path)
    moved = []
    for raw in raws:
        if raw.path == forward.path:
            where = source.position(raw.start) if source else None
            at = f" ({forward.filename}:{where.line}:{where.column})" if where else ""
            raw = raw._replace(path=rollback.path, start=0, end=None, message=raw.message + at)
        moved.append(raw)
    return moved


# -- the history cache (mobius_sqlcheck.cache) --------------------------------------------


def _replay_directory_cached(run: Run, migration_set: MigrationSet,
                             plan: list[tuple[MigrationFile, MigrationFile | None]]) -> Catalog:
    """_replay_directory through the history cache: the pairs whose findings
    are cached are only replayed (or not even that, before the snapshot
    loaded); the others are checked whole and stored."""
    from mobius_sqlcheck.cache.history import open_history_cache

    assert run.store is not None
    cache = open_history_cache(run.store, run.config, run.rules.all, migration_set)
    needed = [forward.path in run.reported or (rollback is not None and rollback.path in run.reported)
              for forward, rollback in plan]
    entries = [_decoded(run, cache.findings(index), *plan[index]) if need else None
               for index, need in enumerate(needed)]
    first_miss = next((index for index, need in enumerate(needed) if need and entries[index] is None), len(plan))
    start, catalog = cache.resume(first_miss)
    for index in range(start):  # covered by the snapshot: nothing to replay
        found = entries[index]
        if found is not None:
            _hand_over(run, *plan[index], *found)
    to_read = []
    for index in range(start, len(plan)):
        forward, rollback = plan[index]
        to_read.append(forward.path)
        if rollback is not None and entries[index] is None:
            to_read.append(rollback.path)
    prefetcher = Prefetcher(to_read + [m.path for m in migration_set.orphan_rollbacks])
    try:
        for index in range(start, len(plan)):
            forward, rollback = plan[index]
            found = entries[index]
            if needed[index] and found is None:
                entry = _check_pair(run, forward, rollback, migration_set, catalog, prefetcher)
                if entry is not None:
                    cache.put_findings(index, entry)
            else:
                _lint_file(run, forward, migration_set, catalog, prefetcher, check=False)
                if found is not None:
                    _hand_over(run, forward, rollback, *found)
            cache.after_pair(index + 1, catalog)
        for orphan in migration_set.orphan_rollbacks:
            _lint_file(run, orphan, migration_set, catalog.fork(), prefetcher)
    finally:
        prefetcher.close()
    return catalog


class _Captured(NamedTuple):
    raws: list[_Raw]
    suppressions: dict[str, list[Suppression]]
    internal_errors: int


def _capture(run: Run, work: Callable[[], object]) -> tuple[object, _Captured]:
    """Run `work` with the run's findings set aside: what it records is returned instead."""
    saved = run.raw, run.suppressions, run.internal_errors
    run.raw, run.suppressions, run.internal_errors = [], {}, 0
    try:
        value = work()
        return value, _Captured(run.raw, run.suppressions, run.internal_errors)
    finally:
        run.raw, run.suppressions, run.internal_errors = saved


def _check_pair(run: Run, forward: MigrationFile, rollback: MigrationFile | None, migration_set: MigrationSet,
                catalog: Catalog, prefetcher: Prefetcher) -> dict | None:
    """Check and replay a forward file and its rollback whole (whichever of
    them was asked about); the parts asked about go to the run, and the
    whole is returned as a cache entry (None when it must not be cached)."""
    created, found_forward = _capture(run, lambda: _lint_file(run, forward, migration_set, catalog, prefetcher,
                                                              check=True))
    found_rollback = found_pair = _Captured([], {}, 0)
    if rollback is not None:
        after_rollback = catalog.fork()
        _, found_rollback = _capture(run, lambda: _lint_file(run, rollback, migration_set, after_rollback,
                                                             prefetcher, check=True))
        context = RollbackContext(run.config, forward, rollback, created, catalog, after_rollback)  # type: ignore[arg-type]
        _, found_pair = _capture(run, lambda: [run.call(rule, forward.path, 0, context)
                                               for rule in run.rules.by_scope.get("rollback", ())])
    _hand_over(run, forward, rollback, found_forward, found_rollback, found_pair)
    return _entry(run, forward, rollback, found_forward, found_rollback, found_pair)


def _hand_over(run: Run, forward: MigrationFile, rollback: MigrationFile | None, found_forward: _Captured,
               found_rollback: _Captured, found_pair: _Captured) -> None:
    """Give the run the findings it would have made itself: those of the files it reports."""
    parts = [(forward, found_forward)] + ([(rollback, found_rollback)] if rollback is not None else [])
    for migration, found in parts:
        if migration.path in run.reported:
            run.raw.extend(found.raws)
            run.internal_errors += found.internal_errors
            if migration.path in found.suppressions:
                run.suppressions[migration.path] = found.suppressions[migration.path]
    if rollback is not None and (forward.path in run.reported or rollback.path in run.reported):
        run.raw.extend(_moved_to_rollback(run, found_pair.raws, forward, rollback))
        run.internal_errors += found_pair.internal_errors


def _entry(run: Run, forward: MigrationFile, rollback: MigrationFile | None, found_forward: _Captured,
           found_rollback: _Captured, found_pair: _Captured) -> dict | None:
    roles = {forward.path: "f"} | ({rollback.path: "r"} if rollback is not None else {})
    names = {m.path: m.filename for m in (forward, rollback) if m is not None}
    entry: dict = {}
    for part, found in (("f", found_forward), ("r", found_rollback), ("p", found_pair)):
        if found.internal_errors or run.read_problems.keys() & roles.keys():
            return None  # a bug or an unreadable file: computed again next time
        raws = []
        for raw in found.raws:
            if raw.path not in roles:
                return None  # a finding in another file: not this pair's to keep
            raws.append([raw.rule.code, roles[raw.path], raw.start, raw.end, raw.message, raw.hint])
        entry[part] = raws
        entry[part + "s"] = {roles[path]: [[s.codes, s.offset, s.whole_file, s.span] for s in suppressions]
                             for path, suppressions in found.suppressions.items() if path in roles}
    entry["names"] = [names[forward.path], names.get(rollback.path) if rollback is not None else None]
    return entry


def _decoded(run: Run, entry: dict | None, forward: MigrationFile,
             rollback: MigrationFile | None) -> tuple[_Captured, _Captured, _Captured] | None:
    """A cached entry's findings (forward file, rollback file, the pair), or
    None when it is missing or not what `_entry` writes."""
    if entry is None:
        return None
    paths = {"f": forward.path, "r": rollback.path if rollback is not None else None}
    try:
        decoded = []
        for part in ("f", "r", "p"):
            raws = [_Raw(run.rules.enabled[code], _role_path(paths, role), int(start),
                         None if end is None else int(end), str(message), hint if hint is None else str(hint))
                    for code, role, start, end, message, hint in entry[part]]
            suppressions = {_role_path(paths, role): [
                Suppression([str(code) for code in codes], int(offset), bool(whole_file),
                            None if span is None else (int(span[0]), int(span[1])))
                for codes, offset, whole_file, span in items] for role, items in entry[part + "s"].items()}
            decoded.append(_Captured(raws, suppressions, 0))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None
    return decoded[0], decoded[1], decoded[2]


def _role_path(paths: dict[str, str | None], role: str) -> str:
    path = paths[role]
    if path is None:
        raise KeyError(role)
    return path


def _context_paths(directory: str, given: list[str]) -> list[str]:
    """Every .sql file of the directory, spelled like the files the user gave,
    and every path given (a directory named `x.sql` is not listed, but was
    given: it is reported as unreadable, not silently skipped)."""
    by_name = {os.path.basename(path): path for path in given}
    listed = [by_name.pop(os.path.basename(path), path) for path in list_sql_files(directory or ".")]
    return listed + list(by_name.values())


def _lint_file(run: Run, migration: MigrationFile, migration_set: MigrationSet,
               catalog: Catalog, prefetcher: Prefetcher, check: bool | None = None) -> list[tuple[ObjectRef, Origin]]:
    """Check and replay one migration file; returns what it created. Files not
    being reported are still replayed (they are history) but not checked,
    unless `check` says otherwise (the history cache stores every pair whole)."""
    reported = migration.path in run.reported if check is None else check
    source, parsed = prefetcher.get(migration.path)
    run.record_read(source, reported)
    if not isinstance(source, SourceFile) or parsed is None:
        if reported:
            _run_file_rules(run, migration, None, None, migration_set)
        return []
    run.record_parse(parsed, reported)
    created = _check_statements(run, migration, source, parsed, catalog, reported)
    if reported:
        _run_file_rules(run, migration, source, parsed, migration_set)
    return created


def _check_statements(run: Run, migration: MigrationFile, source: SourceFile, parsed: ParsedFile,
                      catalog: Catalog, reported: bool) -> list[tuple[ObjectRef, Origin]]:
    """Run the statement rules on one file while replaying it into `catalog`."""
    context = StatementContext(run.config, source, migration, catalog, parsed.statements,
                               no_transaction=has_no_transaction_directive(source.text))

    def check(statement: Statement) -> None:
        for rule in run.rules.statement_rules(statement.node_type):
            run.call(rule, migration.path, statement.start, statement, context)

    replayed = Replayed([], context.tables_created_in_file, [])
    for statement in parsed.statements:
        if reported:
            check(statement)
        replay_statement(catalog, statement, migration.path, replayed)
    for failure in replayed.failures:
        run.replay_failed(failure)
    return replayed.created


def _run_set_rules(run: Run, context: MigrationsContext) -> None:
    for rule in run.rules.by_scope.get("migrations", ()):
        run.call(rule, context.migration_set.directory, 0, context)


def _run_file_rules(run: Run, migration: MigrationFile, source: SourceFile | None,
                    parsed: ParsedFile | None, migration_set: MigrationSet) -> None:
    context = FileContext(run.config, migration, source, parsed, migration_set)
    for rule in run.rules.by_scope.get("file", ()):
        run.call(rule, migration.path, 0, context)


def _run_text_rules(run: Run, source: SourceFile) -> None:
    context = TextContext(run.config, source)
    for rule in run.rules.by_scope.get("text", ()):
        run.call(rule, source.path, 0, context)


# -- suppressions, positions, order -----------------------------------------------------


def _finish(run: Run) -> list[Diagnostic]:
    # An internal error is always shown, even where a directory-wide rule
    # failed (its path is the directory) or on a file given only as context.
    kept = [raw for raw in run.raw
            if raw.rule.code == INTERNAL_ERROR or (raw.path in run.reported and not _suppressed(run, raw))]
    kept.extend(_unused_suppressions(run))
    diagnostics = [_to_diagnostic(run, raw) for raw in kept]
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics


def _suppressed(run: Run, raw: _Raw) -> bool:
    hit = False
    for suppression in run.suppressions.get(raw.path, ()):
        if suppression.covers(raw.rule.code, raw.start):
            suppression.used.add(raw.rule.code)
            hit = True
    return hit


def _unused_suppressions(run: Run) -> list[_Raw]:
    rule = run.rules.enabled.get("MSC009")
    if rule is None:
        return []
    known = run.rules.all
    found = []
    for path, suppressions in run.suppressions.items():
        if path not in run.reported:
            continue
        for suppression in suppressions:
            if not suppression.codes:
                found.append(_Raw(rule, path, suppression.offset, None,
                                  "suppression comment names no rule", rule.default_hint))
            for code in suppression.codes:
                if code not in known:
                    message = f"suppression names unknown rule {code}"
                elif code not in suppression.used and run.rules.is_on(code):
                    message = f"suppression of {code} suppressed nothing"
                else:
                    continue
                found.append(_Raw(rule, path, suppression.offset, None, message, rule.default_hint))
    return [raw for raw in found if not _suppressed(run, raw)]


def _to_diagnostic(run: Run, raw: _Raw) -> Diagnostic:
    problem = run.read_problems.get(raw.path)
    source = None if problem else run.source_for(raw.path)
    if source is not None:
        start = source.position(raw.start)
        end = source.position(raw.end) if raw.end is not None and raw.end >= raw.start else start
        line, column, end_line, end_column = start.line, start.column, end.line, end.column
    elif problem is not None and raw.rule.code == "MSC002":
        line, column = problem.line, problem.column  # the offending byte
        end_line, end_column = line, column
    else:  # a file-level finding on an unreadable file (or no file at all)
        line = column = end_line = end_column = 1
    hint = redacted(raw.hint) if raw.hint else raw.hint
    return Diagnostic(raw.path, line, column, end_line, end_column, raw.rule.code, raw.rule.name,
                      run.rules.severity[raw.rule.code], redacted(raw.message), hint)


# -- used by the applier ----------------------------------------------------------------


class HistoryError(OperationFailed):
    """The applied history cannot be replayed: a file unreadable, or a
    statement the catalog failed on (what it expects would be wrong)."""


def replay_history(migration_set: MigrationSet, upto: str | None = None) -> Catalog:
    """The catalog after every forward migration (up to version `upto`)."""
    catalog = Catalog()
    for forward in migration_set.forwards:
        if upto is not None and forward.number > int(upto):
            break
        source = read_source(forward.path)
        if isinstance(source, ReadProblem):
            raise HistoryError(f"{forward.path}: {source.message}")
        replayed = replay(catalog, parse_source(source), forward.path)
        for failure in replayed.failures:
            where = source.position(failure.statement.start)
            raise HistoryError(f"{forward.path}:{where.line}:{where.column}: the catalog could not replay this "
                               f"statement: {type(failure.error).__name__}: {failure.error}")
    return catalog

"""The lint pipeline: read -> parse -> replay into the catalog -> rules ->
suppressions and config -> diagnostics (the reporters print them).

Data flows one way. `lint_paths` groups the paths the user gave into
migrations directories (linted as a whole, since order and history matter, but
reported only for the files given) and other files (SQL outside a migrations
directory is syntax-checked; any text file gets the text rules, such as the
connection-string scan).
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Iterator, NamedTuple

from mobius_sqlcheck import nodes
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
from mobius_sqlcheck.diagnostics import Diagnostic, Finding, redacted
from mobius_sqlcheck.migrations import (
    MigrationFile,
    MigrationSet,
    build_migration_set,
    has_no_transaction_directive,
    is_migrations_directory,
    list_sql_files,
)
from mobius_sqlcheck.parse import TOO_DEEP, Decoder, ParsedFile, Statement, fast_decoder, nesting_depth, parse_source
from mobius_sqlcheck.rules import Rule, all_rules, expand_selectors
from mobius_sqlcheck.source import ReadProblem, SourceFile, read_source
from mobius_sqlcheck.suppressions import Suppression, find_suppressions, find_text_suppressions

if TYPE_CHECKING:
    from concurrent.futures import Future

# Directories never worth walking into when a directory is given.
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
              ".hypothesis", ".tox", "build", "dist", ".mobius-sqlcheck-cache"}
# Files scanned by the text rules when found by walking a directory.
_TEXT_SUFFIXES = (".env", ".yaml", ".yml", ".toml", ".py", ".sh", ".bash", ".md", ".json", ".ini",
                  ".cfg", ".conf", ".txt", ".js", ".ts", ".properties", ".tf", ".example")


INTERNAL_ERROR = "MSC004"
# Parse-tree depth (dicts and lists) past which a RecursionError is the
# input's fault; real migrations stay under 60.
_DEEP_TREE = 150


class LintResult:
    def __init__(self, files: int = 0, internal_errors: int = 0) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.files = files
        self.internal_errors = internal_errors

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

    def __init__(self, config: Config) -> None:
        rules = all_rules()
        selected = expand_selectors(config.select, "select") if config.select else None
        # Off-by-default rules are switched on by their exact code, not by a prefix.
        named = {selector.strip().upper() for selector in config.select}
        ignored = expand_selectors(config.ignore, "ignore")
        self.severity: dict[str, str] = {}
        for code, rule in rules.items():
            level = config.severity.get(code)
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


class Run:
    """State of one lint run: collects raw findings from every stage."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.rules = ActiveRules(config)
        self.raw: list[_Raw] = []
        self.sources: dict[str, SourceFile] = {}
        self.suppressions: dict[str, list[Suppression]] = {}
        self.read_problems: dict[str, ReadProblem] = {}  # unreadable files keep their own line/column
        self.reported: set[str] = set()
        self.internal_errors = 0
        self.deep_statements: set[tuple[str, int]] = set()

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


def lint_paths(paths: list[str], config: Config) -> LintResult:
    # Parse trees are acyclic and freed by reference counting; the cycle
    # collector would only re-walk every live object again and again.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _lint_paths(paths, config)
    finally:
        if gc_was_enabled:
            gc.enable()


def _lint_paths(paths: list[str], config: Config) -> LintResult:
    run = Run(config)
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
    result = LintResult(files=len(run.reported), internal_errors=run.internal_errors)
    result.diagnostics = _finish(run)
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
    """Rollback rules report at the forward file's statements. When only the
    rollback file was given (pre-commit passes the changed files), their
    findings move to the rollback file, naming the place in the forward one."""
    forward, rollback = context.forward, context.rollback
    if forward.path not in run.reported and rollback.path not in run.reported:
        return
    first_new = len(run.raw)
    for rule in run.rules.by_scope.get("rollback", ()):
        run.call(rule, forward.path, 0, context)
    if forward.path in run.reported:
        return
    source = run.source_for(forward.path)
    for index in range(first_new, len(run.raw)):
        raw = run.raw[index]
        if raw.path == forward.path:
            where = source.position(raw.start) if source else None
            at = f" ({forward.filename}:{where.line}:{where.column})" if where else ""
            run.raw[index] = raw._replace(path=rollback.path, start=0, end=None, message=raw.message + at)


def _context_paths(directory: str, given: list[str]) -> list[str]:
    """Every .sql file of the directory, spelled like the files the user gave,
    and every path given (a directory named `x.sql` is not listed, but was
    given: it is reported as unreadable, not silently skipped)."""
    by_name = {os.path.basename(path): path for path in given}
    listed = [by_name.pop(os.path.basename(path), path) for path in list_sql_files(directory or ".")]
    return listed + list(by_name.values())


def _lint_file(run: Run, migration: MigrationFile, migration_set: MigrationSet,
               catalog: Catalog, prefetcher: Prefetcher) -> list[tuple[ObjectRef, Origin]]:
    """Check and replay one migration file; returns what it created. Files not
    being reported are still replayed (they are history) but not checked."""
    reported = migration.path in run.reported
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
    catalog.current_path = migration.path
    context = StatementContext(run.config, source, migration, catalog, parsed.statements,
                               no_transaction=has_no_transaction_directive(source.text))
    created: list[tuple[ObjectRef, Origin]] = []
    recreated: set[ObjectRef] = set()
    for outer in parsed.statements:
        for statement in [outer, *_embedded(outer, source)]:
            if reported:
                for rule in run.rules.statement_rules(statement.node_type):
                    run.call(rule, migration.path, statement.start, statement, context)
            recreated.update(_dropped_existing(statement, catalog))
            created.extend(_replay(run, catalog, statement, context))
    # An index or trigger the file drops and creates again existed before it: not created here.
    return [(ref, origin) for ref, origin in created if ref not in recreated]


def _embedded(statement: Statement, source: SourceFile) -> list[Statement]:
    """The DDL inside a DO block or plpgsql function body, checked and replayed where it is written."""
    if statement.node_type not in ("DoStmt", "CreateFunctionStmt"):
        return []
    from mobius_sqlcheck.plpgsql import embedded_statements  # only files with such blocks pay for it

    return embedded_statements(statement, source)


def _dropped_existing(statement: Statement, catalog: Catalog) -> list[ObjectRef]:
    """The indexes and triggers a DROP removes that existed before it."""
    node = statement.node
    kind = {"OBJECT_INDEX": "index", "OBJECT_TRIGGER": "trigger"}.get(node.get("removeType", ""))
    if statement.node_type != "DropStmt" or kind is None:
        return []
    refs = []
    for item in node.get("objects", ()):
        parts = nodes.names(item.get("List", {}).get("items"))
        if kind == "index" and parts:
            ref = ObjectRef(kind, nodes.qualified(parts))
        elif kind == "trigger" and len(parts) >= 2:
            ref = ObjectRef(kind, (*nodes.qualified(parts[:-1]), parts[-1]))
        else:
            continue
        if catalog.exists(ref):
            refs.append(ref)
    return refs


def _replay(run: Run, catalog: Catalog, statement: Statement,
            context: StatementContext) -> list[tuple[ObjectRef, Origin]]:
    try:
        refs = catalog.apply(statement)
    except Exception as error:  # noqa: BLE001 - a catalog bug must not stop the run
        if not run.too_deep(error, catalog.current_path, statement):
            run.internal_error(catalog.current_path, statement.start,
                               "the catalog could not replay this statement", error)
        return []
    result = []
    for ref in refs:
        if ref.kind == "table":
            context.tables_created_in_file.add(ref.key)  # type: ignore[arg-type]
        result.append((ref, catalog.origin_of(ref) or Origin(catalog.current_path, statement.start)))
    return result


def _run_set_rules(run: Run, context: MigrationsContext) -> None:
    for rule in run.rules.by_scope.get("migrations", ()):
        run.call(rule, context.migration_set.directory, 0, context)


def _run_file_rules(run: Run, migration: MigrationFile, source: SourceFile | None,
                    parsed: ParsedFile | None, migration_set: MigrationSet) -> None:
    context = FileContext(run.config, migration, source, parsed, migration_set)
    for rule in run.rules.by_scope.get("file", ()):
        run.call(rule, migration.path, 0, context)


def _run_text_rules(run: Run, source: SourceFile) -> None:
    if source.path not in run.suppressions and not source.path.lower().endswith(".sql"):
        suppressions = find_text_suppressions(source)
        if suppressions:
            run.suppressions[source.path] = suppressions
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
    known = all_rules()
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
    message = redacted(raw.message)
    if source is not None and _inside_a_password(source, line, column):
        message = f"{raw.rule.name}: a finding inside what looks like a password (its text is not shown)"
    return Diagnostic(raw.path, line, column, end_line, end_column, raw.rule.code, raw.rule.name,
                      run.rules.severity[raw.rule.code], message, hint)


def _inside_a_password(source: SourceFile, line: int, column: int) -> bool:
    """A `'` in a password ends an SQL string, and what follows becomes
    tokens a rule may quote (an identifier, the text near a syntax error)."""
    starts = source.line_starts()
    if line > len(starts):
        return False
    end = starts[line] if line < len(starts) else len(source.data)
    text = source.data[starts[line - 1]:end].decode("utf-8", "replace")
    lowered = text.lower()
    if "://" not in lowered and "password" not in lowered:
        return False
    from mobius_sqlcheck.connstr import is_secret_at

    return is_secret_at(text, column - 1, column)


# -- used by the applier ----------------------------------------------------------------


def replay_history(migration_set: MigrationSet, upto: str | None = None) -> Catalog:
    """The catalog after every forward migration (up to version `upto`)."""
    catalog = Catalog()
    for forward in migration_set.forwards:
        if upto is not None and forward.number > int(upto):
            break
        source = read_source(forward.path)
        if isinstance(source, ReadProblem):
            continue
        catalog.current_path = forward.path
        for statement in parse_source(source).statements:
            catalog.apply(statement)
    return catalog

"""The lint pipeline for one run: read -> parse -> replay into the catalog ->
rules -> suppressions and severities -> diagnostics (the reporters print them).

Data flows one way and a run keeps nothing after it returns: `lint_paths`
takes the config, the rule registry and where files come from (a
`SourceProvider`) as parameters, so a long-running process (an editor
server) can call it again and again, with other files or other settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from mobius_sqlcheck import lockfile, nodes
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
from mobius_sqlcheck.diagnostics import Diagnostic, LintResult, redacted
from mobius_sqlcheck.layouts import reading_buffers
from mobius_sqlcheck.lint import suppression
from mobius_sqlcheck.lint.discovery import classify_paths
from mobius_sqlcheck.lint.findings import RawFinding
from mobius_sqlcheck.lint.replay import Replayed, ReplayFailure, replay_statement
from mobius_sqlcheck.lint.selection import INTERNAL_ERROR, ActiveRules
from mobius_sqlcheck.lint.sources import DiskSources, Prefetcher, SourceLoader, SourceProvider, whole_file
from mobius_sqlcheck.lockfile import FileSums
from mobius_sqlcheck.migrations import MigrationFile, MigrationSet, has_no_transaction_directive, load_layout_set
from mobius_sqlcheck.parse import TOO_DEEP, ParsedFile, Statement, nesting_depth, parse_source
from mobius_sqlcheck.rules import Registry, Rule, all_rules
from mobius_sqlcheck.source import ReadProblem, SourceFile
from mobius_sqlcheck.suppressions import Suppression, find_suppressions, find_text_suppressions

if TYPE_CHECKING:
    from mobius_sqlcheck.cache.store import Store
    from mobius_sqlcheck.lint.workers import FileWork, FileWorkers

# The rule that reports each kind of parse problem.
_PROBLEM_RULES: dict[str, str] = {"syntax": "MSC001", "psql-meta-command": "MSC505"}
# Parse-tree depth (dicts and lists) past which a RecursionError is the
# input's fault; real migrations stay under 60.
_DEEP_TREE = 150


class Run:
    """State of one lint run: collects raw findings from every stage."""

    def __init__(self, config: Config, rules: Registry, sources: SourceProvider) -> None:
        self.config = config
        self.rules = ActiveRules(config, rules)
        self.provider = sources
        self.raw: list[RawFinding] = []
        self.sources: dict[str, SourceFile] = {}
        self.suppressions: dict[str, list[Suppression]] = {}
        self.read_problems: dict[str, ReadProblem] = {}  # unreadable files keep their own line/column
        self.reported: set[str] = set()
        self.internal_errors = 0
        self.deep_statements: set[tuple[str, int]] = set()
        self.layouts: dict[str, str] = {}  # migrations directory -> the layout in force
        self.dialect_skipped = 0
        self.store: Store | None = None  # the history cache (mobius_sqlcheck.cache), when on
        self.file_sums: FileSums | None = None  # lock sums of the files read (see _file_sums)

    # -- recording --------------------------------------------------------

    def add(self, code: str, path: str, start: int, message: str, end: int | None = None,
            hint: str | None = None) -> None:
        rule = self.rules.enabled.get(code)
        if rule is not None:
            self.raw.append(RawFinding(rule, path, start, end, message, hint or rule.default_hint))

    def call(self, rule: Rule, default_path: str, at: int, *args: object,
             place: Callable[[RawFinding], RawFinding] | None = None) -> None:
        """Run `rule.check(*args)`; a rule that raises (even SystemExit)
        becomes MSC004 at `at` (its findings so far are dropped), and the run
        goes on. `place` puts each finding where it is reported."""
        if rule.check is None:
            return  # reported by the pipeline itself
        found = []
        try:
            for finding in rule.check(*args):
                raw = RawFinding(rule, finding.path or default_path, finding.start, finding.end,
                                 finding.message, finding.hint or rule.default_hint)
                found.append(place(raw) if place is not None else raw)
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
        return self.record_read(self.provider.read(path), report)

    def record_read(self, source: SourceFile | ReadProblem, report: bool = True) -> SourceFile | ReadProblem:
        if isinstance(source, ReadProblem) and report:
            self.add("MSC002", source.path, 0, source.message, hint=source.hint)
            self.read_problems[source.path] = source
        return source

    def keep(self, source: SourceFile) -> None:
        """Keep a file's text for positions (it has findings or suppressions);
        of a section (dbmate), the whole file's."""
        if source.path not in self.sources:
            self.sources[source.path] = whole_file(self.provider, source)

    def source_for(self, path: str) -> SourceFile | None:
        """The file's text for positions: kept when it had findings while it
        was read, else asked of the provider again (a finding of the history
        rules on an earlier file; never kept all at once, for memory)."""
        if path not in self.sources:
            source = self.provider.read(path)
            if isinstance(source, SourceFile):
                self.sources[path] = source
        return self.sources.get(path)

    def parse(self, source: SourceFile, report: bool = True) -> ParsedFile:
        return self.record_parse(parse_source(source), report)

    def record_parse(self, parsed: ParsedFile, report: bool = True) -> ParsedFile:
        source = parsed.source
        if report:
            for problem in parsed.problems:
                self.add(_PROBLEM_RULES[problem.kind], source.path, problem.offset, problem.message,
                         end=problem.end, hint=problem.hint)
            suppressions = find_suppressions(source, parsed.statements)
            if suppressions:
                # Two sections of one file (dbmate) each bring their own.
                self.suppressions.setdefault(source.path, []).extend(suppressions)
                self.keep(source)
        return parsed


def lint_paths(paths: list[str], config: Config, rules: Registry | None = None,
               sources: SourceProvider | None = None, cache_dir: str | None = None) -> LintResult:
    """Lint `paths` with `config`, the rules of `rules` (default: the
    built-in ones) and files read from `sources` (default: the disk). With
    `cache_dir`, the history cache there is used and updated (files from
    the disk, or editor buffers over it: see mobius_sqlcheck.cache)."""
    run = Run(config, all_rules() if rules is None else rules, sources or DiskSources())
    if cache_dir is not None and (isinstance(run.provider, DiskSources) or getattr(run.provider, "on_disk", False)):
        from mobius_sqlcheck.cache.history import tool_version
        from mobius_sqlcheck.cache.store import Store

        run.store = Store(cache_dir, tool_version())
    migration_dirs, sql_files, text_files = classify_paths(paths, config)
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
                        rules=run.rules.all, layouts=run.layouts, dialect_skipped=run.dialect_skipped)
    if run.store is not None:
        run.store.maybe_sweep()
        if run.store.problem:
            result.notices.append(run.store.problem + " (linted without it)")
    return result


# -- migrations ---------------------------------------------------------------------


def _lint_migration_directory(run: Run, directory: str, given: list[str]) -> None:
    """Lint one migrations directory, streaming: each file is read, parsed,
    checked and replayed, then its parse tree is dropped, so memory stays flat
    however long the history."""
    with reading_buffers(getattr(run.provider, "buffered", None)):  # an editor's buffers, if any
        migration_set = _migration_set(run.config, directory, given)
    run.layouts[directory or "."] = migration_set.layout
    run.dialect_skipped += len(migration_set.dialect_skipped)
    ignored = [path for path, _ in migration_set.ignored]  # files the layout never applies (MSC110)
    all_paths = list(dict.fromkeys([m.path for m in migration_set.all_files()] + migration_set.other_sql + ignored))
    run.file_sums = _file_sums(run, migration_set)
    pairs = _replay_plan(run, migration_set)
    if run.store is not None:
        from mobius_sqlcheck.lint.cached import lint_directory_cached

        lint_directory_cached(run, migration_set, pairs)  # the history rules too, or their cached findings
    else:
        units = [m for pair in pairs for m in pair if m is not None] + migration_set.orphan_rollbacks
        checked = [m for m in units if m.path in run.reported]
        prefetcher = Prefetcher([m.key for m in units], run.provider, start_workers(run, migration_set, checked))
        try:
            catalog = _replay_directory(run, migration_set, pairs, prefetcher)
        finally:
            prefetcher.close()
        run_history_rules(run, migration_set, catalog)
    for path in migration_set.other_sql + ignored:
        if path in run.reported:
            source = run.read(path)
            if isinstance(source, SourceFile):
                run.parse(source)
    # After the replay: the lock rules hash the bytes it read instead of reading every file again.
    _run_set_rules(run, MigrationsContext(run.config, migration_set, SourceLoader(all_paths, run.provider),
                                          frozenset(given), run.file_sums))
    run.file_sums = None


def history_default_path(migration_set: MigrationSet) -> str:
    """Where a history rule's finding without a path of its own goes."""
    return migration_set.forwards[0].path if migration_set.forwards else migration_set.directory


def run_history_rules(run: Run, migration_set: MigrationSet, catalog: Catalog) -> None:
    """The history rules on the catalog after the last pair. They are told
    which files the run reports when it reports only some
    forward files (HistoryContext.reportable: their other findings would be
    dropped anyway)."""
    reported = None
    if any(forward.path not in run.reported for forward in migration_set.forwards):
        reported = frozenset(run.reported)
    context = HistoryContext(run.config, migration_set, catalog, reported)
    for rule in run.rules.by_scope.get("history", ()):
        run.call(rule, history_default_path(migration_set), 0, context)


def _file_sums(run: Run, migration_set: MigrationSet) -> FileSums | None:
    """Where the replay leaves the lock sums of the files it reads, when a
    lock file is there to compare them with (MSC105) and the files come from
    the disk (an editor buffer is not what the lock file guards)."""
    if not run.rules.is_on("MSC105") or type(run.provider) is not DiskSources:
        return None
    if not os.path.isfile(lockfile.lock_path(migration_set.directory, run.config.lock_file)):
        return None
    return lockfile.FileSums()


def _migration_set(config: Config, directory: str, given: list[str]) -> MigrationSet:
    """The directory as its layout lists it: the pipeline's one view of
    layouts (the units in apply order, their rollbacks, the files ignored)."""
    # The files given in the directory: those its listing does not hold (an
    # editor buffer not on disk, a directory named x.sql) are linted as loose SQL.
    extra = [path for path in given if os.path.dirname(path) == directory]
    # The pipeline applies our no-transaction directive from each file's text (_check_statements).
    return load_layout_set(directory, config.layout, config.rollbacks, extra, our_directive=False)


def start_workers(run: Run, migration_set: MigrationSet, checked: list[MigrationFile]) -> FileWorkers | None:
    """Worker processes for the catalog-free checks of `checked` (in the
    order they are checked), when there are enough of them to pay; the
    module is not even imported below that (the one-file hook)."""
    from mobius_sqlcheck.lint.sources import MIN_POOL_FILES

    if len(checked) < MIN_POOL_FILES:
        return None
    from mobius_sqlcheck.lint import workers

    return workers.start(run, migration_set, checked)


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
        created, forward_source = _lint_file(run, forward, migration_set, catalog, prefetcher)
        if rollback is not None:
            after_rollback = catalog.fork()
            _lint_file(run, rollback, migration_set, after_rollback, prefetcher)
            _check_rollback(run, RollbackContext(run.config, forward, rollback, created, catalog, after_rollback),
                            forward_source)
    for orphan in migration_set.orphan_rollbacks:
        _lint_file(run, orphan, migration_set, catalog.fork(), prefetcher)
    return catalog


def _check_rollback(run: Run, context: RollbackContext, forward_source: SourceFile | None) -> None:
    """Rollback rules report at the forward file's statements. When only the
    rollback file was given (pre-commit passes the changed files), their
    findings are placed on the rollback file, naming the place in the forward one."""
    forward, rollback = context.forward, context.rollback
    if forward.path not in run.reported and rollback.path not in run.reported:
        return
    if forward.path in run.reported:
        for rule in run.rules.by_scope.get("rollback", ()):
            run.call(rule, forward.path, 0, context)
        return
    on_rollback = placed_on_rollback(forward, rollback, forward_source)
    for rule in run.rules.by_scope.get("rollback", ()):
        run.call(rule, rollback.path, 0, context, place=on_rollback)


def placed_on_rollback(forward: MigrationFile, rollback: MigrationFile,
                       forward_source: SourceFile | None) -> Callable[[RawFinding], RawFinding]:
    def on_rollback(raw: RawFinding) -> RawFinding:
        if raw.path != forward.path:
            return raw
        where = forward_source.position(raw.start) if forward_source is not None else None
        at = f" ({forward.filename}:{where.line}:{where.column})" if where else ""
        return raw._replace(path=rollback.path, start=0, end=None, message=raw.message + at)

    return on_rollback


def _lint_file(run: Run, migration: MigrationFile, migration_set: MigrationSet, catalog: Catalog,
               prefetcher: Prefetcher, check: bool | None = None) -> tuple[list[tuple[ObjectRef, Origin]], SourceFile | None]:
    """Check and replay one migration file; returns what it created, and its
    text. Files not being reported are still replayed (they are history) but
    not checked, unless `check` says otherwise (the history cache keeps
    every pair whole)."""
    reported = migration.path in run.reported if check is None else check
    source, parsed, work = prefetcher.get(migration.key, reported)
    run.record_read(source, reported)
    if run.file_sums is not None and isinstance(source, SourceFile) and not migration.is_section:
        run.file_sums.record(source.path, source.data)
    before = len(run.raw)
    if work is not None:
        _take_work(run, work)
    if not isinstance(source, SourceFile) or parsed is None:
        if reported:
            _run_file_rules(run, migration, None, None, migration_set, work is not None)
        return [], None
    run.record_parse(parsed, reported)
    created = _check_statements(run, migration, source, parsed, catalog, reported, work is not None,
                                migration_set.layout)
    if reported:
        _run_file_rules(run, migration, source, parsed, migration_set, work is not None)
    if any(raw.path == source.path for raw in run.raw[before:]):
        run.keep(source)  # read once: its findings get their positions from this text
    return created, source


def _take_work(run: Run, work: FileWork) -> None:
    """A worker's findings on a file, as if the rules had run here; a
    statement too deep for a rule is reported once, by whichever side met it."""
    for code, path, start, end, message, hint in work.findings:
        if code == "MSC001" and message == TOO_DEEP:
            if (path, start) in run.deep_statements:
                continue
            run.deep_statements.add((path, start))
        run.raw.append(RawFinding(run.rules.enabled[code], path, start, end, message, hint))
    run.internal_errors += work.internal_errors


def _check_statements(run: Run, migration: MigrationFile, source: SourceFile, parsed: ParsedFile,
                      catalog: Catalog, reported: bool, worked: bool = False,
                      layout: str = "mobius") -> list[tuple[ObjectRef, Origin]]:
    """Run the statement rules on one file while replaying it into `catalog`
    (when a worker `worked` on it, only the rules that need the catalog)."""
    no_transaction = not migration.in_transaction or has_no_transaction_directive(source.text)
    context = StatementContext(run.config, source, migration, catalog, parsed.statements,
                               no_transaction=no_transaction, layout=layout)

    which = False if worked else None

    def check(statement: Statement) -> None:
        for rule in run.rules.statement_rules(statement.node_type, catalog_free=which):
            run.call(rule, migration.path, statement.start, statement, context)

    replayed = Replayed([], context.tables_created_in_file, [])
    recreated: set[ObjectRef] = set()
    for outer in parsed.statements:
        for statement in [outer, *embedded(outer, parsed)]:
            if reported:
                check(statement)
            recreated.update(_dropped_existing(statement, catalog))
            replay_statement(catalog, statement, migration.path, replayed)
    for failure in replayed.failures:
        run.replay_failed(failure)
    # An index or trigger the file drops and creates again existed before it: not created here.
    return [(ref, origin) for ref, origin in replayed.created if ref not in recreated]


def embedded(statement: Statement, parsed: ParsedFile) -> list[Statement]:
    """The DDL inside a DO block or plpgsql function body, checked and replayed where it is written."""
    if statement.node_type not in ("DoStmt", "CreateFunctionStmt"):
        return []
    from mobius_sqlcheck.plpgsql import embedded_statements  # only files with such blocks pay for it

    return embedded_statements(statement, parsed.source, parsed.decode, parsed.parses)


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
            ref = ObjectRef("index", nodes.qualified(parts))
        elif kind == "trigger" and len(parts) >= 2:
            ref = ObjectRef("trigger", (*nodes.qualified(parts[:-1]), parts[-1]))
        else:
            continue
        if catalog.exists(ref):
            refs.append(ref)
    return refs


def _run_set_rules(run: Run, context: MigrationsContext) -> None:
    for rule in run.rules.by_scope.get("migrations", ()):
        run.call(rule, context.migration_set.directory, 0, context)


def _run_file_rules(run: Run, migration: MigrationFile, source: SourceFile | None,
                    parsed: ParsedFile | None, migration_set: MigrationSet, worked: bool = False) -> None:
    context = FileContext(run.config, migration, source, parsed, migration_set)
    for rule in run.rules.by_scope.get("file", ()):
        if not (worked and rule.catalog_free):  # a worker ran it
            run.call(rule, migration.path, 0, context)


def _run_text_rules(run: Run, source: SourceFile) -> None:
    if source.path not in run.suppressions and not source.path.lower().endswith(".sql"):
        suppressions = find_text_suppressions(source)
        if suppressions:
            run.suppressions[source.path] = suppressions
            run.keep(source)
    context = TextContext(run.config, source)
    for rule in run.rules.by_scope.get("text", ()):
        run.call(rule, source.path, 0, context)


# -- suppressions, positions, order -----------------------------------------------------


def _finish(run: Run) -> list[Diagnostic]:
    raw = run.raw
    if run.rules.per_file.globs:
        raw = [finding for finding in raw if finding.rule.code not in run.rules.per_file.codes_for(finding.path)]
    kept = suppression.resolve(raw, run.suppressions, run.reported,
                               run.rules.enabled.get(suppression.UNUSED_SUPPRESSION), run.rules.all,
                               run.rules.enabled)
    diagnostics = [_to_diagnostic(run, raw) for raw in kept]
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics


def _to_diagnostic(run: Run, raw: RawFinding) -> Diagnostic:
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

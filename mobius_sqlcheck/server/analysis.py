"""What the server computes, independent of the protocol (plain paths, text
and the linter's own types), so it is read and tested like the CLI.

A migration is judged as the CLI judges it, with the open editor buffers in
place of their files (`BufferSources`): the file, and every later file of
its history (an edit to 002 can change what 003 means), in one lint run.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Mapping
from typing import NamedTuple

from mobius_sqlcheck.catalog import Catalog
from mobius_sqlcheck.config import Config, load_config
from mobius_sqlcheck.diagnostics import Diagnostic
from mobius_sqlcheck.fixes import Fix, fixes_for
from mobius_sqlcheck.fixes.apply import held_reason
from mobius_sqlcheck.fixes.base import context_for
from mobius_sqlcheck.lint import lint_paths
from mobius_sqlcheck.lint.discovery import classify_paths
from mobius_sqlcheck.lint.replay import Replayed, replay_statement
from mobius_sqlcheck.lint.sources import Buffer, BufferSources
from mobius_sqlcheck.migrations import MigrationSet, load_layout_set
from mobius_sqlcheck.parse import ParsedFile, Statement, parse_source
from mobius_sqlcheck.rules import Registry, registry_from_environment
from mobius_sqlcheck.source import SourceFile

LOCK_RULES = frozenset(f"MSC{n}" for n in range(306, 312))


class Judged(NamedTuple):
    """One lint run for an edited file: diagnostics by path, for every path judged."""

    diagnostics: dict[str, list[Diagnostic]]
    in_migrations: bool  # False: a loose SQL file, judged alone


class Analyzer:
    """The server's state that outlives a request: configs by directory, the
    rule registry, and the catalogs before a file (for hovers) by what the
    earlier files' versions were."""

    def __init__(self, rules: Registry | None = None, use_cache: bool = True) -> None:
        self.rules = rules if rules is not None else registry_from_environment()
        self.use_cache = use_cache
        self._sets: dict[str, tuple[object, MigrationSet]] = {}  # directory -> (its mtime, its files)
        if use_cache:
            from mobius_sqlcheck.cache.history import remember_snapshots

            remember_snapshots()
        self._configs: dict[str, Config] = {}
        self._catalogs: dict[str, tuple[tuple[object, ...], Catalog]] = {}

    def config_for(self, path: str) -> Config:
        directory = os.path.dirname(os.path.abspath(path))
        if directory not in self._configs:
            self._configs[directory] = load_config(None, start=directory)
        return self._configs[directory]

    def migration_set_for(self, path: str) -> MigrationSet | None:
        """The migrations directory `path` is in, as its layout lists it, or None (a loose SQL file)."""
        config = self.config_for(path)
        dirs, _, _ = classify_paths([path], config)
        if not dirs:
            return None
        directory = next(iter(dirs)) or "."
        migration_set = self._listed(directory, config)
        if not os.path.exists(path) and not any(_same(m.path, path) for m in migration_set.all_files()):
            # Open but not on disk (new, or deleted while open): judged where its name puts it.
            return load_layout_set(directory, config.layout, config.rollbacks, [path])
        return migration_set

    def _listed(self, directory: str, config: Config) -> MigrationSet:
        """The directory's migration set, listed again only when the directory
        changed (a file added, removed or renamed changes its mtime)."""
        try:
            stamp: object = os.stat(directory).st_mtime_ns
        except OSError:
            stamp = None
        known = self._sets.get(directory)
        if known is None or known[0] != stamp or stamp is None:
            known = (stamp, load_layout_set(directory, config.layout, config.rollbacks))
            self._sets[directory] = known
        return known[1]

    def judge(self, path: str, buffers: Mapping[str, Buffer]) -> Judged:
        """Lint `path` (its buffer, if open) and every later file of its history."""
        path = os.path.abspath(path)
        config = self.config_for(path)
        migration_set = self.migration_set_for(path)
        given = [path]
        if migration_set is not None:
            given = [os.path.abspath(p) for p in later_files(migration_set, path)]
        # As the lint command does: parse trees are acyclic, the cycle collector
        # would only walk the catalog again and again during the run.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            result = lint_paths(given, config, self.rules, sources=BufferSources(buffers),
                                cache_dir=self.cache_dir(path, config))
        finally:
            if was_enabled:
                gc.enable()
        found: dict[str, list[Diagnostic]] = {p: [] for p in given}
        for diagnostic in result.diagnostics:
            found.setdefault(os.path.abspath(diagnostic.path), []).append(diagnostic)
        return Judged(found, migration_set is not None)

    def cache_dir(self, path: str, config: Config) -> str | None:
        """The history cache the CLI would use for this file (found from the
        file's directory, not the server's working directory)."""
        if not self.use_cache:
            return None
        from mobius_sqlcheck.cache.location import DEFAULT_NAME, ENV_VAR, cache_root, project_root

        if os.environ.get(ENV_VAR) or config.cache_dir:
            return cache_root(config)
        return os.path.join(project_root(os.path.dirname(path)), DEFAULT_NAME)

    # -- hover -----------------------------------------------------------------

    def rule_text(self, code: str) -> str | None:
        rule = self.rules.get(code)
        if rule is None:
            return None
        return f"**{rule.code} {rule.name}** (default: {rule.severity})\n\n{rule.docs}"

    def catalog_before(self, path: str, statement_index: int, buffers: Mapping[str, Buffer],
                       parsed: ParsedFile) -> Catalog:
        """The catalog as the history leaves it just before statement
        `statement_index` of `path` (whose parse is `parsed`)."""
        catalog = self._catalog_before_file(path, buffers).fork()
        replayed = Replayed([], set(), [])
        for statement in parsed.statements[:statement_index]:
            replay_statement(catalog, statement, path, replayed)
        return catalog

    def _catalog_before_file(self, path: str, buffers: Mapping[str, Buffer]) -> Catalog:
        path = os.path.abspath(path)
        migration_set = self.migration_set_for(path)
        earlier = [m for m in migration_set.forwards if _before(m.path, path, migration_set)] if migration_set else []
        sources = BufferSources(buffers)
        versions = tuple(sources.version(m.path) for m in earlier)
        key = path
        cached = self._catalogs.get(key)
        if cached is not None and cached[0] == versions:
            return cached[1]
        catalog = Catalog()
        replayed = Replayed([], set(), [])
        for migration in earlier:
            source = sources.read(migration.path)
            if isinstance(source, SourceFile):
                for statement in parse_source(source).statements:
                    replay_statement(catalog, statement, migration.path, replayed)
        self._catalogs[key] = (versions, catalog)
        return catalog

    # -- code actions ----------------------------------------------------------

    def fixes_at(self, source: SourceFile, diagnostic: Diagnostic) -> list[Fix]:
        parsed = parse_source(source)
        rule = self.rules.get(diagnostic.rule)
        config, migration_set = self.config_for(source.path), self.migration_set_for(source.path)
        context = context_for(diagnostic.rule, source, parsed, diagnostic.line, diagnostic.column, migration_set,
                              statement_scope=rule is None or rule.scope in ("statement", "engine"), config=config)
        # As `lint --fix`: no action rewrites a locked migration (its bytes
        # are what production ran; MSC105 would follow).
        return [fix for fix in fixes_for(context)
                if not any(held_reason(path, migration_set, config, None) for path in {e.path for e in fix.edits})]


def later_files(migration_set: MigrationSet, path: str) -> list[str]:
    """`path` and every migration that applies after it (forward files and
    their rollbacks), in apply order."""
    forwards = migration_set.forwards
    mine = next((m for m in migration_set.all_files() if _same(m.path, path)), None)
    if mine is None:
        return [path]
    if mine.is_rollback:
        forward = next((m for m in forwards if m.stem == mine.stem), None)
        start = forwards.index(forward) + 1 if forward is not None else len(forwards)
        found = [path]
    else:
        start = forwards.index(mine)
        found = []
    for forward in forwards[start:]:
        found.append(forward.path)
        rollback = migration_set.rollback_for(forward)
        if rollback is not None:
            found.append(rollback.path)
    return found


def _before(candidate: str, path: str, migration_set: MigrationSet) -> bool:
    """True when forward migration `candidate` applies before the file at `path`."""
    mine = next((m for m in migration_set.all_files() if _same(m.path, path)), None)
    other = next((m for m in migration_set.forwards if _same(m.path, candidate)), None)
    if mine is None or other is None:
        return False
    if mine.is_rollback:
        return other.sort_key <= mine.sort_key  # a rollback runs after its own forward file
    return other.sort_key < mine.sort_key


def _same(a: str, b: str) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def statement_index_at(parsed: ParsedFile, offset: int) -> int | None:
    for statement in parsed.statements:
        if statement.start <= offset <= statement.end:
            return statement.index
    return None


_IDENTIFIER = re.compile(r'(?:"[^"\n]*"|[A-Za-z_][A-Za-z0-9_$]*)(?:\.(?:"[^"\n]*"|[A-Za-z_][A-Za-z0-9_$]*))?')


def name_at(text: str, char: int) -> tuple[str, ...] | None:
    """The (possibly qualified) identifier at character `char`, folded as
    PostgreSQL folds it: unquoted names lower-cased."""
    line_start = text.rfind("\n", 0, char) + 1
    line_end = text.find("\n", char)
    line = text[line_start:line_end if line_end != -1 else len(text)]
    for match in _IDENTIFIER.finditer(line):
        if match.start() <= char - line_start <= match.end():
            return tuple(_fold(part) for part in _split_name(match.group(0)))
    return None


def _split_name(name: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r'"[^"]*"|[^.]+', name)]


def _fold(part: str) -> str:
    return part[1:-1].replace('""', '"') if part.startswith('"') else part.lower()


def table_text(catalog: Catalog, name: tuple[str, ...], buffers: Mapping[str, Buffer]) -> str | None:
    """Hover text for a table: where the history created it and its columns
    as they stand before the statement. None if the catalog has no such table."""
    key = (name[0], name[1]) if len(name) == 2 else ("public", name[0])
    table = catalog.table(key)
    if table is None:
        return None
    if table.external:
        where = "never created in this history (a platform table, only altered here)"
    elif table.origin is not None:
        where = f"created by {_where(table.origin.path, table.origin.offset, buffers)}"
    else:
        where = "created earlier in this history"
    lines = [f"**{table.kind} {table.schema}.{table.name}**: {where}", "", "Columns before this statement:"]
    for column in table.columns.values():
        flags = " NOT NULL" if column.not_null else ""
        flags += " DEFAULT …" if column.default is not None else ""
        lines.append(f"- `{column.name}` {column.type_name}{flags}")
    if not table.columns:
        lines.append("- (none known)")
    return "\n".join(lines)


def _where(path: str, offset: int, buffers: Mapping[str, Buffer]) -> str:
    """`file.sql:line:column` of a byte offset, read as the editor has it."""
    source = BufferSources(buffers).read(path)
    if not isinstance(source, SourceFile):
        return os.path.basename(path)
    position = source.position(offset)
    return f"{os.path.basename(path)}:{position.line}:{position.column}"


def lock_text(statement: Statement, catalog: Catalog, version: int) -> str | None:
    """For the lock rules: the lock the statement takes on each table and
    what it blocks, by the measured lock model of PostgreSQL `version`."""
    from mobius_sqlcheck import locks  # the model's data is loaded only when asked

    lines = []
    for effect in locks.predict(statement, catalog, version):
        lines.append(f"- {locks.display_mode(effect.mode)} lock on {'.'.join(effect.table)}: blocks "
                     f"{locks.BLOCKS.get(effect.mode, 'other sessions')}"
                     + ("; rewrites the table" if effect.rewrites else "") + ("; scans it" if effect.scans else ""))
    return "Locks taken:\n" + "\n".join(lines) if lines else None

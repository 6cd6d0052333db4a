"""`lint --fix`: the mechanical fixes applied to the files on disk.

Never to a locked or applied migration: one the lock file records (it was
reviewed and may be applied; MSC105 reports any change to it), or, given a
database (`lint --fix --database-url`), one its history records as applied
(mobius_sqlcheck's own, and the Supabase CLI's). Those findings are left and
said so. Each fix is reported in one line. A second run finds nothing to
fix, as the rewritten statements no longer have the findings.
"""

from __future__ import annotations

import os
from collections import defaultdict

from mobius_sqlcheck.config import Config
from mobius_sqlcheck.diagnostics import Diagnostic
from mobius_sqlcheck.fixes import fixes_for
from mobius_sqlcheck.fixes.applied import Applied
from mobius_sqlcheck.fixes.base import Edit, NewFile, apply_edits, context_for
from mobius_sqlcheck.lint.discovery import classify_paths
from mobius_sqlcheck.lockfile import read_quietly
from mobius_sqlcheck.migrations import MigrationFile, MigrationSet, load_layout_set
from mobius_sqlcheck.parse import parse_source
from mobius_sqlcheck.source import SourceFile, read_source

FIXABLE = frozenset({"MSC301", "MSC306", "MSC308"})


def fix_findings(diagnostics: list[Diagnostic], config: Config, applied: Applied | None = None) -> list[str]:
    """Apply the mechanical fixes of `diagnostics`; returns what was done, one line each."""
    by_path: dict[str, list[Diagnostic]] = defaultdict(list)
    for diagnostic in diagnostics:
        if diagnostic.rule in FIXABLE:
            by_path[diagnostic.path].append(diagnostic)
    report: list[str] = []
    taken: set[str] = set()
    for path, found in sorted(by_path.items()):
        report.extend(_fix_file(path, found, config, taken, applied))
    return report


def _migration_set(path: str, config: Config) -> MigrationSet | None:
    dirs, _, _ = classify_paths([path], config)
    return load_layout_set(next(iter(dirs)) or ".", config.layout, config.rollbacks) if dirs else None


def _fix_file(path: str, found: list[Diagnostic], config: Config, taken: set[str],
              applied: Applied | None) -> list[str]:
    migration_set = _migration_set(path, config)
    held = held_reason(path, migration_set, config, applied)
    if held:
        return [f"{path}: not fixed: {held} ({len(found)} finding(s) left)"]
    source = read_source(path)
    if not isinstance(source, SourceFile):
        return []
    parsed = parse_source(source)
    edits: list[Edit] = []
    new_files: list[NewFile] = []
    report = []
    for diagnostic in sorted(found, key=Diagnostic.sort_key):
        context = context_for(diagnostic.rule, source, parsed, diagnostic.line, diagnostic.column, migration_set,
                              frozenset(taken), config=config)
        fix = next((f for f in fixes_for(context) if f.mechanical), None)
        where = f"{path}:{diagnostic.line}:{diagnostic.column}"
        if fix is None or _overlaps(fix.edits, edits):
            report.append(f"{where}: not fixed {diagnostic.rule}: {_why_not(diagnostic.rule, migration_set)}")
            continue
        other = next((e.path for e in fix.edits if e.path != path and held_reason(e.path, migration_set, config, applied)),
                     None)
        if other is not None:
            report.append(f"{where}: not fixed {diagnostic.rule}: it would change {other}, which is "
                          f"{held_reason(other, migration_set, config, applied)}")
            continue
        edits.extend(edit for edit in fix.edits if edit not in edits)  # a marker is added once
        new_files.extend(fix.new_files)
        taken.update(new_file.version for new_file in fix.new_files if new_file.version)
        report.append(f"{where}: fixed {diagnostic.rule}: {fix.title}")
    by_path: dict[str, list[Edit]] = defaultdict(list)
    for edit in edits:
        by_path[edit.path].append(edit)
    for edited, its_edits in by_path.items():
        text = source.text if edited == path else _text(edited)
        _write(edited, apply_edits(text, its_edits))
        if edited != path:
            report.append(f"{edited}: changed")
    for new_file in new_files:
        _write(new_file.path, new_file.text, new=True)
        report.append(f"{new_file.path}: created")
    return report


_NO_WAY = {
    "prisma": "Prisma Migrate has no way to run a migration outside a transaction",
}


def _why_not(rule: str, migration_set: MigrationSet | None) -> str:
    if rule == "MSC306" and migration_set is not None and migration_set.layout in _NO_WAY:
        return _NO_WAY[migration_set.layout]
    return "no mechanical rewrite for this statement"


def held_reason(path: str, migration_set: MigrationSet | None, config: Config, applied: Applied | None) -> str:
    """Why `path` must not change ("" if it may): locked, or applied."""
    migration = _migration_file(path, migration_set)
    if migration_set is None or migration is None:
        return ""
    lock = read_quietly(migration_set, config.lock_file)
    if lock is not None and migration.filename in lock.entries:
        return "the lock file records it"
    if applied is not None:
        forward = next((m for m in migration_set.forwards if m.stem == migration.stem), migration)
        where = applied.where(forward)
        if where:
            return f"applied: {where} records it"
    return ""


def _migration_file(path: str, migration_set: MigrationSet | None) -> MigrationFile | None:
    if migration_set is None:
        return None
    absolute = os.path.abspath(path)
    return next((m for m in migration_set.all_files() if os.path.abspath(m.path) == absolute), None)


def _overlaps(new: tuple[Edit, ...], edits: list[Edit]) -> bool:
    return any(a.path == b.path and a.start < b.end and b.start < a.end for a in new for b in edits if a != b)


def _text(path: str) -> str:
    source = read_source(path)
    return source.text if isinstance(source, SourceFile) else ""


def _write(path: str, text: str, new: bool = False) -> None:
    if new:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "x" if new else "w", encoding="utf-8", newline="") as handle:
        handle.write(text)

"""`lint --fix`: the mechanical fixes applied to the files on disk.

Never to a migration the lock file records (it was reviewed and may be
applied; MSC105 reports any change to it): those findings are left and said
so. Each fix is reported in one line. A second run finds nothing to fix, as
the rewritten statements no longer have the findings.
"""

from __future__ import annotations

import os
from collections import defaultdict

from mobius_sqlcheck.config import Config
from mobius_sqlcheck.diagnostics import Diagnostic
from mobius_sqlcheck.fixes import fixes_for
from mobius_sqlcheck.fixes.base import Edit, NewFile, apply_edits, context_for
from mobius_sqlcheck.lockfile import read_quietly
from mobius_sqlcheck.migrations import MigrationSet, classify_filename, load_migration_set
from mobius_sqlcheck.parse import parse_source
from mobius_sqlcheck.source import SourceFile, read_source

FIXABLE = frozenset({"MSC301", "MSC306", "MSC308"})


def fix_findings(diagnostics: list[Diagnostic], config: Config) -> list[str]:
    """Apply the mechanical fixes of `diagnostics`; returns what was done, one line each."""
    by_path: dict[str, list[Diagnostic]] = defaultdict(list)
    for diagnostic in diagnostics:
        if diagnostic.rule in FIXABLE:
            by_path[diagnostic.path].append(diagnostic)
    report: list[str] = []
    taken: set[str] = set()
    for path, found in sorted(by_path.items()):
        report.extend(_fix_file(path, found, config, taken))
    return report


def _fix_file(path: str, found: list[Diagnostic], config: Config, taken: set[str]) -> list[str]:
    migration_set = load_migration_set(os.path.dirname(path) or ".")
    if _locked(path, migration_set, config):
        return [f"{path}: not fixed: the lock file records it ({len(found)} finding(s) left)"]
    source = read_source(path)
    if not isinstance(source, SourceFile):
        return []
    parsed = parse_source(source)
    edits: list[Edit] = []
    new_files: list[NewFile] = []
    report = []
    for diagnostic in sorted(found, key=Diagnostic.sort_key):
        context = context_for(diagnostic.rule, source, parsed, diagnostic.line, diagnostic.column, migration_set,
                              frozenset(taken))
        fix = next((f for f in fixes_for(context) if f.mechanical), None)
        where = f"{path}:{diagnostic.line}:{diagnostic.column}"
        if fix is None or _overlaps(fix.edits, edits):
            report.append(f"{where}: not fixed {diagnostic.rule}: no mechanical rewrite for this statement")
            continue
        edits.extend(edit for edit in fix.edits if edit not in edits)  # the marker is added once
        new_files.extend(fix.new_files)
        for new_file in fix.new_files:
            created = classify_filename(new_file.path)
            if created is not None:
                taken.add(created.version)
        report.append(f"{where}: fixed {diagnostic.rule}: {fix.title}")
    if not edits:
        return report
    _write(path, apply_edits(source.text, edits))
    for new_file in new_files:
        _write(new_file.path, new_file.text, new=True)
        report.append(f"{new_file.path}: created")
    return report


def _locked(path: str, migration_set: MigrationSet, config: Config) -> bool:
    lock = read_quietly(migration_set, config.lock_file)
    return lock is not None and os.path.basename(path) in lock.entries


def _overlaps(new: tuple[Edit, ...], edits: list[Edit]) -> bool:
    return any(a.start < b.end and b.start < a.end for a in new for b in edits if a != b)


def _write(path: str, text: str, new: bool = False) -> None:
    with open(path, "x" if new else "w", encoding="utf-8", newline="") as handle:
        handle.write(text)

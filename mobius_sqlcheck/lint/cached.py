"""The migrations-directory replay through the history cache
(`mobius_sqlcheck.cache.history`): what `pipeline._replay_directory` does,
for the pairs whose findings are not cached; the others are only replayed,
or not even that when they come before the catalog snapshot loaded.

A pair (a forward file and its rollback) is checked whole, whichever of its
files was asked about, and stored as three parts: the forward file's
findings, the rollback file's, and the rollback rules'. Each run then takes
the parts it reports, placed as the uncached pipeline places them, so the
output is the same bytes with or without the cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from mobius_sqlcheck.catalog import Catalog
from mobius_sqlcheck.context import RollbackContext
from mobius_sqlcheck.diagnostics import redacted
from mobius_sqlcheck.lint.findings import RawFinding
from mobius_sqlcheck.lint.pipeline import (
    Run,
    _lint_file,
    history_default_path,
    placed_on_rollback,
    run_history_rules,
    start_workers,
)
from mobius_sqlcheck.lint.sources import Prefetcher
from mobius_sqlcheck.migrations import MigrationFile, MigrationSet
from mobius_sqlcheck.suppressions import Suppression

if TYPE_CHECKING:
    from mobius_sqlcheck.cache.history import HistoryCache

# Where a rollback rule's finding without a path of its own goes depends on
# which files the run reports: it is stored with this path and placed on delivery.
_DEFAULT_PATH = "\x00default"

Plan = list[tuple[MigrationFile, MigrationFile | None]]


class Found(NamedTuple):
    raws: list[RawFinding]
    suppressions: dict[str, list[Suppression]]
    internal_errors: int


_NOTHING = Found([], {}, 0)


def lint_directory_cached(run: Run, migration_set: MigrationSet, plan: Plan) -> None:
    """The directory's pairs and its history rules through the cache. When
    every pair the run reports and the history rules' findings after the
    last pair are cached, nothing is replayed and no snapshot is loaded."""
    from mobius_sqlcheck.cache.history import open_history_cache

    assert run.store is not None
    cache = open_history_cache(run.store, run.config, run.rules.all, migration_set, sources=run.provider)
    needed = [forward.path in run.reported or (rollback is not None and rollback.path in run.reported)
              for forward, rollback in plan]
    entries = [_decoded(run, entry, *plan[index]) if entry is not None else None
               for index, entry in enumerate(cache.findings(needed))]
    first_miss = next((index for index, need in enumerate(needed) if need and entries[index] is None), len(plan))
    orphans_reported = any(orphan.path in run.reported for orphan in migration_set.orphan_rollbacks)
    history = _decoded_history(run, cache, migration_set) if first_miss == len(plan) and not orphans_reported else None
    if history is not None:
        for index, found in enumerate(entries):
            if found is not None:
                _hand_over(run, *plan[index], *found)
        run.raw.extend(history)
        return
    catalog = _replay(run, migration_set, plan, cache, entries, needed, first_miss)
    # A run reporting only some files (the hook) asks the history rules about
    # those files' objects alone, which loads no other table of the snapshot;
    # only a run reporting them all learns every finding, to store.
    whole = all(forward.path in run.reported for forward in migration_set.forwards)
    _, computed = _capture(run, lambda: run_history_rules(run, migration_set, catalog))
    run.raw.extend(computed.raws)
    run.internal_errors += computed.internal_errors
    if whole and not computed.internal_errors:
        _store_history(run, cache, migration_set, computed.raws)


def _decoded_history(run: Run, cache: HistoryCache, migration_set: MigrationSet) -> list[RawFinding] | None:
    """The history rules' cached findings after the last pair, or None."""
    value = cache.history_findings()
    if value is None:
        return None
    default = history_default_path(migration_set)
    try:
        return [RawFinding(run.rules.enabled[code], default if name is None else cache.path_of(name), int(start),
                           None if end is None else int(end), str(message), None if hint is None else str(hint))
                for code, name, start, end, message, hint in value]
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _store_history(run: Run, cache: HistoryCache, migration_set: MigrationSet, raws: list[RawFinding]) -> None:
    default = history_default_path(migration_set)
    stored = []
    for raw in raws:
        try:
            name = None if raw.path == default else cache.name_of(raw.path)
        except ValueError:
            return  # a finding outside the forward files: not cached
        message, hint = redacted(raw.message), redacted(raw.hint) if raw.hint else raw.hint
        if redacted(message) != message or (hint and redacted(hint) != hint):
            return
        stored.append([raw.rule.code, name, raw.start, raw.end, message, hint])
    cache.put_history_findings(stored)


def _replay(run: Run, migration_set: MigrationSet, plan: Plan, cache: HistoryCache, entries: list,
            needed: list[bool], first_miss: int) -> Catalog:
    """Load the latest snapshot at or before the first missing pair, replay
    the rest (checking the pairs without an entry) and return the catalog
    after the last pair."""
    start, catalog = cache.resume(first_miss)
    for index in range(start):  # covered by the snapshot: nothing to replay
        found = entries[index]
        if found is not None:
            _hand_over(run, *plan[index], *found)
    to_read, checked = [], []  # checked: in the order _check_pair and the orphans check them
    for index in range(start, len(plan)):
        forward, rollback = plan[index]
        to_read.append(forward.key)
        if rollback is not None and entries[index] is None:
            to_read.append(rollback.key)
        if needed[index] and entries[index] is None:
            checked += [forward] + ([rollback] if rollback is not None else [])
    checked += [m for m in migration_set.orphan_rollbacks if m.path in run.reported]
    prefetcher = Prefetcher(to_read + [m.key for m in migration_set.orphan_rollbacks], run.provider,
                            start_workers(run, migration_set, checked))
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


_Value = TypeVar("_Value")


def _capture(run: Run, work: Callable[[], _Value]) -> tuple[_Value, Found]:
    """Run `work` with the run's findings set aside: what it records is returned instead."""
    saved = run.raw, run.suppressions, run.internal_errors
    run.raw, run.suppressions, run.internal_errors = [], {}, 0
    try:
        value = work()
        return value, Found(run.raw, run.suppressions, run.internal_errors)
    finally:
        run.raw, run.suppressions, run.internal_errors = saved


def _check_pair(run: Run, forward: MigrationFile, rollback: MigrationFile | None, migration_set: MigrationSet,
                catalog: Catalog, prefetcher: Prefetcher) -> dict | None:
    """Check and replay a forward file and its rollback whole; the parts the
    run reports go to it, and the whole is returned as a cache entry (None
    when it must not be cached)."""
    done, found_forward = _capture(run, lambda: _lint_file(run, forward, migration_set, catalog, prefetcher,
                                                           check=True))
    created, _ = done
    found_rollback = found_pair = _NOTHING
    if rollback is not None:
        after_rollback = catalog.fork()
        _, found_rollback = _capture(run, lambda: _lint_file(run, rollback, migration_set, after_rollback,
                                                             prefetcher, check=True))
        context = RollbackContext(run.config, forward, rollback, created, catalog, after_rollback)
        _, found_pair = _capture(run, lambda: _run_rollback_rules(run, context))
    _hand_over(run, forward, rollback, found_forward, found_rollback, found_pair)
    return _entry(run, forward, rollback, found_forward, found_rollback, found_pair)


def _run_rollback_rules(run: Run, context: RollbackContext) -> None:
    for rule in run.rules.by_scope.get("rollback", ()):
        run.call(rule, _DEFAULT_PATH, 0, context)


def _hand_over(run: Run, forward: MigrationFile, rollback: MigrationFile | None, found_forward: Found,
               found_rollback: Found, found_pair: Found) -> None:
    """Give the run the findings it would have made itself: those of the files it reports."""
    parts = [(forward, found_forward)] + ([(rollback, found_rollback)] if rollback is not None else [])
    for migration, found in parts:
        if migration.path in run.reported:
            run.raw.extend(found.raws)
            run.internal_errors += found.internal_errors
            if migration.path in found.suppressions:
                run.suppressions[migration.path] = found.suppressions[migration.path]
    if rollback is None or (forward.path not in run.reported and rollback.path not in run.reported):
        return
    run.internal_errors += found_pair.internal_errors
    if forward.path in run.reported:  # as pipeline._check_rollback: the default path is the forward file
        run.raw.extend(raw._replace(path=forward.path) if raw.path == _DEFAULT_PATH else raw
                       for raw in found_pair.raws)
        return
    place = placed_on_rollback(forward, rollback, run.source_for(forward.path) if found_pair.raws else None)
    run.raw.extend(place(raw._replace(path=rollback.path) if raw.path == _DEFAULT_PATH else raw)
                   for raw in found_pair.raws)


def _entry(run: Run, forward: MigrationFile, rollback: MigrationFile | None, found_forward: Found,
           found_rollback: Found, found_pair: Found) -> dict | None:
    roles = {forward.path: "f", _DEFAULT_PATH: "d"} | ({rollback.path: "r"} if rollback is not None else {})
    if run.read_problems.keys() & roles.keys():
        return None  # an unreadable file: its problem keeps a line and column of its own
    entry: dict = {}
    for part, found in (("f", found_forward), ("r", found_rollback), ("p", found_pair)):
        if found.internal_errors:
            return None  # a bug: computed again next time
        raws = []
        for raw in found.raws:
            if raw.path not in roles:
                return None  # a finding in another file: not this pair's to keep
            # Stored redacted (the output redacts again, to the same text): a
            # password quoted by a message never reaches the cache directory.
            message, hint = redacted(raw.message), redacted(raw.hint) if raw.hint else raw.hint
            if redacted(message) != message or (hint and redacted(hint) != hint):
                return None
            raws.append([raw.rule.code, roles[raw.path], raw.start, raw.end, message, hint])
        entry[part] = raws
        entry[part + "s"] = {roles[path]: [[s.codes, s.offset, s.whole_file, s.span] for s in suppressions]
                             for path, suppressions in found.suppressions.items() if path in roles}
    return entry


def _decoded(run: Run, entry: dict | None, forward: MigrationFile,
             rollback: MigrationFile | None) -> tuple[Found, Found, Found] | None:
    """A cached entry's findings (forward file, rollback file, rollback
    rules), or None when it is missing or not what `_entry` writes."""
    if entry is None:
        return None
    paths = {"f": forward.path, "d": _DEFAULT_PATH, "r": rollback.path if rollback is not None else None}
    try:
        decoded = []
        for part in ("f", "r", "p"):
            raws = [RawFinding(run.rules.enabled[code], _role_path(paths, role), int(start),
                               None if end is None else int(end), str(message), None if hint is None else str(hint))
                    for code, role, start, end, message, hint in entry[part]]
            suppressions = {_role_path(paths, role): [
                Suppression([str(code) for code in codes], int(offset), bool(whole_file),
                            None if span is None else (int(span[0]), int(span[1])))
                for codes, offset, whole_file, span in items] for role, items in entry[part + "s"].items()}
            decoded.append(Found(raws, suppressions, 0))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None
    return decoded[0], decoded[1], decoded[2]


def _role_path(paths: dict[str, str | None], role: str) -> str:
    path = paths[role]
    if path is None:
        raise KeyError(role)
    return path

"""Ours: `NNN_snake_case.sql`, its rollback `NNN_snake_case_rollback.sql` beside it.

Applied in (numeric version, name) order, each file in its own transaction
unless it says `-- mobius-sqlcheck: no-transaction`. A file that starts with
digits but is not snake_case is still ordered by its version (MSC101 asks for
a proper name); a `.sql` file without a version is never applied (MSC101).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from mobius_sqlcheck.policy.base import DIRECTIVE, MOVE_OUT_HINT
from mobius_sqlcheck.layouts import (
    Change, Listing, Options, Script, Section, Unit, create_file, has_our_no_transaction, next_number, sql_files
)

ID = "mobius"
SUMMARY = "NNN_snake_case.sql with NNN_snake_case_rollback.sql beside it"
HAS_ROLLBACKS = True
EXPECTED = "NNN_snake_case.sql and NNN_snake_case_rollback.sql"
PROJECT_DIRS = ("migrations",)
SEQUENTIAL = True  # versions count up by one (MSC103)


def expected_rollback(unit: Unit) -> str:
    return f"rollback file {unit.version}_{unit.name}_rollback.sql"

STRICT_NAME = re.compile(r"^(?P<version>[0-9]+)_(?P<name>[a-z0-9]+(?:_[a-z0-9]+)*)\.sql$")
# Loosely migration-like: digits first. Ordered by its version all the same.
LOOSE_NAME = re.compile(r"^(?P<version>[0-9]+)[_-]?(?P<name>.*)\.sql$", re.IGNORECASE)
ROLLBACK_SUFFIX = "_rollback"
# Another layout's own names: not evidence for this one.
_FOREIGN = re.compile(r"\.(up|down)\.[^.]+$", re.IGNORECASE)


# Our applier runs a file holding this line outside a transaction (policy.DIRECTIVE),
# and MSC504's hint says so.
NO_TRANSACTION_MARKER = DIRECTIVE
OUTSIDE_TRANSACTION = MOVE_OUT_HINT


def next_version(versions: Sequence[str]) -> str:
    return next_number(versions)


def new_migration(directory: str, version: str, name: str, up: Script, down: Script | None,
                  options: Options) -> list[Change] | None:
    stem = os.path.join(directory, f"{version}_{name}")
    files = [create_file(f"{stem}.sql", _text(up))]
    if down is not None:
        files.append(create_file(f"{stem}{ROLLBACK_SUFFIX}.sql", _text(down)))
    return files


def _text(script: Script) -> str:
    return script.sql if script.in_transaction else f"{NO_TRANSACTION_MARKER}\n{script.sql}"


def run_outside_transaction(path: str, text: str) -> list[Change] | None:
    return [] if has_our_no_transaction(text) else [Change(path, 0, 0, f"{NO_TRANSACTION_MARKER}\n")]


def named_like_ours(name: str) -> bool:
    """Digits first, `.sql`, and not another layout's `.up.sql` / `.down.sql`."""
    return LOOSE_NAME.match(name) is not None and not _FOREIGN.search(name)


def evidence(directory: str, names: list[str]) -> int:
    """Our names, less those that are dbmate files (a `-- migrate:up` line):
    estimated from dbmate's bounded sample of them, so no file is read twice."""
    from mobius_sqlcheck.layouts import dbmate

    ours = [name for name in names if named_like_ours(name)]
    named, sampled = dbmate.marked_names(directory, ours)
    return round(10 * (len(ours) - dbmate.estimated_marked(named, sampled)))


class _Name:
    __slots__ = ("path", "version", "name", "is_rollback", "well_named")

    def __init__(self, path: str, version: str, name: str, is_rollback: bool, well_named: bool) -> None:
        self.path, self.version, self.name = path, version, name
        self.is_rollback, self.well_named = is_rollback, well_named

    @property
    def stem(self) -> str:
        return f"{self.version}_{self.name}"

    @property
    def order(self) -> tuple:
        return (int(self.version), self.name)


def classify(path: str) -> _Name | None:
    filename = os.path.basename(path)
    match = STRICT_NAME.match(filename)
    well_named = match is not None
    if match is None:
        match = LOOSE_NAME.match(filename)
        if match is None:
            return None
    name = match["name"]
    is_rollback = name.lower().endswith(ROLLBACK_SUFFIX)
    if is_rollback:
        name = name[: -len(ROLLBACK_SUFFIX)]
    return _Name(path, match["version"], name, is_rollback, well_named)


def list_units(directory: str, names: list[str], options: Options) -> Listing:
    paths = [path for _, path in sql_files(directory, names, options)]
    return pair_files(ID, directory, paths, HAS_ROLLBACKS, options=options)


def pair_files(layout: str, directory: str, paths: list[str], has_rollbacks: bool,
               rollback_paths: Sequence[str] = (), options: Options | None = None) -> Listing:
    """Forward files paired with `<stem>_rollback.sql` (in `paths`, or in
    `rollback_paths`: a separate rollbacks directory)."""
    forwards, rollbacks, misnamed = [], [], []
    for path in paths:
        named = classify(path)
        if named is None:
            misnamed.append(path)
        elif named.is_rollback:
            rollbacks.append(named)
        else:
            forwards.append(named)
    for path in rollback_paths:
        named = classify(path)
        if named is not None:  # a rollbacks directory holds files named like their forward migration
            rollbacks.append(named)
    forwards.sort(key=lambda n: n.order)
    by_stem = {}
    orphans = []
    forward_stems = {n.stem for n in forwards}
    for rollback in sorted(rollbacks, key=lambda n: n.order):
        if rollback.stem in forward_stems and rollback.stem not in by_stem:
            by_stem[rollback.stem] = rollback
        else:
            orphans.append(Section(rollback.path))
    units = []
    for forward in forwards:
        paired = by_stem.get(forward.stem)
        units.append(Unit(
            version=forward.version, name=forward.name, display=os.path.basename(forward.path),
            forward=Section(forward.path), rollback=Section(paired.path) if paired else None,
            in_transaction=(options or Options()).in_transaction(forward.path),
            order=forward.order, well_named=forward.well_named,
        ))
    return Listing(layout, directory, units, [], [], orphans, misnamed, has_rollbacks)

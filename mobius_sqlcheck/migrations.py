"""Migration files: naming, forward/rollback pairing and apply order.

`NNN_snake_case.sql` is a forward migration of version NNN (any number of
digits, so Supabase's timestamp versions work too); `NNN_snake_case_rollback.sql`
undoes it. Migrations apply in (numeric version, name) order, so two files of
one version still have a stable order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import NamedTuple

# Our naming is the mobius layout's own: defined once, in its module.
from mobius_sqlcheck.layouts.mobius import (  # noqa: F401
    LOOSE_NAME,
    ROLLBACK_SUFFIX,
    STRICT_NAME,
    classify,
    named_like_ours,
)

NO_TRANSACTION_DIRECTIVE = re.compile(r"^\s*--\s*mobius-sqlcheck:\s*no-transaction\s*$", re.MULTILINE)


def version_key(version: str) -> tuple[int, ...]:
    """A version as its tool compares it: Flyway's dotted parts as numbers
    (1.1 before 2, and not 11), any other version by its digits (diesel's
    2024-06-11-120000 as 20240611120000)."""
    if "." in version:
        return tuple(int(part) for part in version.split(".") if part.isdigit())
    digits = "".join(ch for ch in version if ch.isdigit())
    return (int(digits) if digits else 0,)


class MigrationFile(NamedTuple):
    """A forward or rollback migration: a whole file, or a section of one
    (`start:end`, bytes) when the layout keeps both in one file (dbmate)."""

    path: str
    version: str  # as written, e.g. "004"
    name: str  # e.g. "learning_privacy" (without `_rollback`)
    is_rollback: bool
    well_named: bool
    start: int = 0
    end: int | None = None  # None: to the end of the file
    in_transaction: bool = True  # False: the layout's (or our) no-transaction marker
    order: tuple = ()  # the layout's sort key; () for (number, name)
    display: str = ""  # the layout's name for it; "" for the file name
    repeatable: bool = False  # Flyway R__

    @property
    def number(self) -> int:
        digits = "".join(ch for ch in self.version if ch.isdigit())
        return int(digits) if digits else 0

    @property
    def version_key(self) -> tuple[int, ...]:
        return version_key(self.version)

    @property
    def sort_key(self) -> tuple:
        return self.order or (self.number, self.name)

    @property
    def is_section(self) -> bool:
        return self.start != 0 or self.end is not None

    @property
    def key(self) -> tuple[str, int, int | None]:
        """Unique within a run: two sections of one file have two keys."""
        return (self.path, self.start, self.end)

    @property
    def stem(self) -> str:
        """`004_learning_privacy` for both the forward file and its rollback."""
        return f"{self.version}_{self.name}"

    @property
    def filename(self) -> str:
        return self.display or os.path.basename(self.path)


def classify_filename(path: str) -> MigrationFile | None:
    """A MigrationFile for a migration-like name, or None for any other file."""
    named = classify(path)
    if named is None:
        return None
    return MigrationFile(path, named.version, named.name, named.is_rollback, named.well_named)


class MigrationSet:
    """The `.sql` files of one migrations directory."""

    def __init__(self, directory: str, layout: str = "mobius") -> None:
        self.directory = directory
        self.layout = layout  # the layout in force (mobius_sqlcheck.layouts), or "unknown"
        self.has_rollbacks = True  # the layout has rollbacks (MSC401 asks for them)
        self.ignored: list[tuple[str, str]] = []  # (path, why): .sql files the layout would not apply (MSC110)
        self.dialect_skipped: list[str] = []  # another database's variant of a migration
        self.rollback_names: dict[str, str] = {}  # stem -> the rollback the layout expects, for MSC401
        self.sequential = True  # versions count up by one, so a gap means something (MSC103)
        self.forwards: list[MigrationFile] = []  # in apply order
        self.rollbacks: dict[str, MigrationFile] = {}  # by stem
        self.orphan_rollbacks: list[MigrationFile] = []
        self.other_sql: list[str] = []  # not migration-like at all

    def rollback_for(self, forward: MigrationFile) -> MigrationFile | None:
        return self.rollbacks.get(forward.stem)

    def all_files(self) -> list[MigrationFile]:
        files = list(self.forwards)
        files.extend(self.rollbacks.values())
        files.extend(self.orphan_rollbacks)
        return files


def list_sql_files(directory: str) -> list[str]:
    from mobius_sqlcheck.layouts import scan

    names, directories = scan(directory)
    return [os.path.join(directory, name) for name in names
            if name.lower().endswith(".sql") and name not in directories]


def load_migration_set(directory: str) -> MigrationSet:
    return build_migration_set(directory, list_sql_files(directory))


def build_migration_set(directory: str, paths: list[str]) -> MigrationSet:
    migration_set = MigrationSet(directory)
    rollbacks: list[MigrationFile] = []
    for path in paths:
        migration = classify_filename(path)
        if migration is None:
            migration_set.other_sql.append(path)
        elif migration.is_rollback:
            rollbacks.append(migration)
        else:
            migration_set.forwards.append(migration)
    migration_set.forwards.sort(key=lambda m: m.sort_key)
    forward_stems = {m.stem for m in migration_set.forwards}
    for rollback in sorted(rollbacks, key=lambda m: m.sort_key):
        if rollback.stem in forward_stems:
            migration_set.rollbacks[rollback.stem] = rollback
        else:
            migration_set.orphan_rollbacks.append(rollback)
    return migration_set


def is_migrations_directory(directory: str, configured: str | list[str] | None) -> bool:
    """A directory holds migrations if it is a configured one, is named
    `migrations` (or Flyway's `migration`), or some layout recognizes a file in it."""
    from mobius_sqlcheck.layouts import detect

    for candidate in [configured] if isinstance(configured, str) else configured or []:
        if candidate and _same_path(directory, candidate):
            return True
    if os.path.basename(os.path.normpath(os.path.abspath(directory))) in ("migrations", "migration"):
        return True
    from mobius_sqlcheck.layouts import entries

    names = entries(directory)
    # A name like ours is evidence for our layout or, if its file is dbmate's,
    # for dbmate's: either way some layout recognizes the directory, without
    # reading a file (detect would sample their contents).
    if any(named_like_ours(name) for name in names):
        return True
    return bool(detect(directory, names).candidates)


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def has_no_transaction_directive(text: str) -> bool:
    return "no-transaction" in text and NO_TRANSACTION_DIRECTIVE.search(text) is not None


# -- from a layout's units ---------------------------------------------------------------


def load_layout_set(directory: str, layout: str = "auto", rollbacks: str = "",
                    extra_paths: Sequence[str] = (), our_directive: bool = True) -> MigrationSet:
    """The one place a layout's listing becomes what the engine, the rules, the
    lock file and the applier consume. `extra_paths`: files the user named that
    the listing does not hold (linted as loose SQL by the caller).
    `our_directive=False`: the caller applies `-- mobius-sqlcheck:
    no-transaction` itself from each file it reads, so the listing reads no file
    for it (`in_transaction` then says only what the layout's own markers say)."""
    from mobius_sqlcheck.layouts import Options, all_layouts, list_units

    # A named file missing from the disk (an editor buffer) is listed as if it
    # were there (the listing's names are a set: one on disk is there already).
    given_names = [os.path.basename(path) for path in extra_paths]
    listing = list_units(directory, layout, Options(rollbacks=rollbacks, our_directive=our_directive), given_names)  # paths spelled as given
    migration_set = MigrationSet(directory or ".", listing.layout)
    migration_set.has_rollbacks = listing.has_rollbacks
    migration_set.ignored = [(item.path, item.reason) for item in listing.ignored]
    migration_set.dialect_skipped = list(listing.dialect_skipped)
    migration_set.other_sql = list(listing.misnamed)
    module = all_layouts().get(listing.layout)
    migration_set.sequential = bool(getattr(module, "SEQUENTIAL", False))
    strict = listing.layout in ("mobius", "supabase")
    expected_rollback = getattr(module, "expected_rollback", None) if module is not None else None
    for unit in listing.units:
        forward = MigrationFile(unit.forward.path, unit.version, unit.name, False, unit.well_named,
                                unit.forward.start, unit.forward.end, unit.in_transaction, unit.order,
                                "" if strict else unit.display, unit.repeatable)
        migration_set.forwards.append(forward)
        if expected_rollback is not None:
            migration_set.rollback_names[forward.stem] = expected_rollback(unit)
        if unit.rollback is not None:
            section = unit.rollback
            well_named = STRICT_NAME.match(os.path.basename(section.path)) is not None if strict else True
            migration_set.rollbacks[forward.stem] = MigrationFile(
                section.path, unit.version, unit.name, True, well_named, section.start, section.end,
                unit.rollback_in_transaction, unit.order, _rollback_display(unit, section, strict))
    for section in listing.orphan_rollbacks:
        named = classify_filename(section.path)
        migration_set.orphan_rollbacks.append(MigrationFile(
            section.path, named.version if named else "", named.name if named else "", True,
            (named is not None and named.well_named) if strict else True, section.start, section.end,
            display="" if strict else os.path.relpath(section.path, directory or ".")))
    known = {m.path for m in migration_set.all_files()} | set(migration_set.other_sql)
    known.update(path for path, _ in migration_set.ignored)
    known.update(migration_set.dialect_skipped)
    migration_set.other_sql.extend(path for path in extra_paths if path not in known)
    return migration_set


def _rollback_display(unit, section, strict: bool) -> str:
    if strict:
        return ""
    if section.path == unit.forward.path:  # a section of the same file
        return f"{unit.display} (down)"
    if "/" in unit.display:  # diesel: the migration's own directory
        return f"{unit.display.rsplit('/', 1)[0]}/{os.path.basename(section.path)}"
    return os.path.basename(section.path)

"""Migration layouts: how a migration tool lays out its files, as plug-ins.

Each layout is one module in this package (`mobius`, `supabase`,
`golang_migrate`, ...), discovered like the rules are. A module declares

- `ID`: the name used in config (`layout = "golang-migrate"`);
- `SUMMARY`: one line for messages and docs;
- `HAS_ROLLBACKS`: whether its tool has rollbacks (MSC401 asks for them);
- `EXPECTED`: what a file name must look like, for MSC110's message;
- `PROJECT_DIRS`: where the tool keeps its migrations, relative to the project;
- `evidence(directory, names)`: how strongly a directory looks like this
  layout (0: not at all), from its entries' names (and for dbmate, whose
  files look like ours, the first lines of a bounded sample of them:
  `dbmate.SAMPLE`), so detecting the layout of a long history reads no
  file per migration;
- `list_units(directory, names, options)`: the directory as a `Listing`
  (`options.is_directory` answers from the one scan of the directory;
  `options.in_transaction` reads a file for our no-transaction directive
  only when the caller asks it to);
- for the fixes (`mobius_sqlcheck.fixes`), each in the tool's own convention:
  `next_version(versions)`, the version of a migration after all of them;
  `new_migration(directory, version, name, up, down, options)`, the files of
  a new migration (its rollback too, where the layout has them); and
  `run_outside_transaction(path, text)`, what makes an existing migration run
  outside a transaction. Both return None where the tool has no way to.

A layout turns a directory into plain data: the ordered `Unit`s (each with its
forward SQL and optional rollback SQL as a `Section` of a real file, so
positions stay in that file), and the `.sql` files it saw but would not apply.
Nothing else in the code base knows a layout's names.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from types import ModuleType
from typing import NamedTuple

from mobius_sqlcheck.errors import UsageError

AUTO = "auto"
_MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Our own directive: the applier runs the file outside a transaction block.
NO_TRANSACTION_DIRECTIVE = re.compile(r"^\s*--\s*mobius-sqlcheck:\s*no-transaction\s*$", re.MULTILINE)


class Section(NamedTuple):
    """SQL in a real file: the whole file, or bytes `start:end` of it (a
    dbmate `-- migrate:up` section). Offsets are bytes of the file as read
    (after a UTF-8 byte-order mark), so positions stay in the file."""

    path: str
    start: int = 0
    end: int | None = None  # None: to the end of the file

    @property
    def is_whole_file(self) -> bool:
        return self.start == 0 and self.end is None


class Unit(NamedTuple):
    """One migration as its tool applies it."""

    version: str  # as written: "004", "20240611120000", "2024-06-11-120000", "1.2", "" (Flyway R__)
    name: str  # its title: "add_templates"
    display: str  # how its tool names it: "004_add_templates.sql", "2024-06-11-120000_x/up.sql"
    forward: Section
    rollback: Section | None
    in_transaction: bool  # False when the layout's own marker (or ours) says so
    order: tuple  # sort key within its listing (the tool's own order)
    repeatable: bool = False  # Flyway R__: re-applied whenever its checksum changes
    rollback_in_transaction: bool = True  # dbmate: the down section has its own marker
    well_named: bool = True  # mobius: ordered by its digits, yet not NNN_snake_case.sql (MSC101)


class Ignored(NamedTuple):
    """A `.sql` file the layout's tool would not apply (MSC110)."""

    path: str
    reason: str


class Listing(NamedTuple):
    layout: str  # the layout's ID
    directory: str
    units: list[Unit]  # in apply order
    ignored: list[Ignored]  # MSC110
    dialect_skipped: list[str]  # golang-migrate `.mysql.up.sql` & co: another database's files
    orphan_rollbacks: list[Section]  # a rollback without its forward migration (MSC106)
    misnamed: list[str]  # mobius: `.sql` files without a version (MSC101)
    has_rollbacks: bool  # the layout has rollbacks, so MSC401 asks for them

    def all_sections(self) -> list[Section]:
        sections = [unit.forward for unit in self.units]
        sections.extend(unit.rollback for unit in self.units if unit.rollback is not None)
        sections.extend(self.orphan_rollbacks)
        return sections


class Options(NamedTuple):
    """The config keys a layout reads, and what the caller already knows."""

    rollbacks: str = ""  # supabase: a directory of rollback files kept outside supabase/migrations
    # Read each file for our `-- mobius-sqlcheck: no-transaction` directive
    # (False: the caller applies it from the text it reads anyway, as the lint
    # pipeline does; listing a long history then reads no file).
    our_directive: bool = True
    # The entries of the directory that are directories, from the one scan
    # of it (None: ask the file system per name).
    subdirectories: frozenset[str] | None = None

    def is_directory(self, directory: str, name: str) -> bool:
        if self.subdirectories is not None:
            return name in self.subdirectories
        return os.path.isdir(os.path.join(directory, name))

    def in_transaction(self, path: str) -> bool:
        """False when the file says `-- mobius-sqlcheck: no-transaction` (and we read it)."""
        return not (self.our_directive and has_our_no_transaction(read_text(path)))


class Change(NamedTuple):
    """A file change a layout asks for: text[start:end] (characters) of the
    file at `path` replaced by `text`; `create`: the file is new."""

    path: str
    start: int
    end: int
    text: str
    create: bool = False


class Script(NamedTuple):
    """SQL for a new migration (or its rollback), and whether it may run in a transaction."""

    sql: str
    in_transaction: bool = True


# -- discovery ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def all_layouts() -> dict[str, ModuleType]:
    """Every layout module, by ID (in the order detection reports candidates)."""
    found = {}
    for name in sorted(_module_names()):
        module = importlib.import_module(f"{__name__}.{name}")
        found[module.ID] = module
    return found


def outside_transaction_hint(layout: str) -> str | None:
    """How the layout's tool runs a statement that cannot run in a
    transaction block (MSC504's hint), or None for an unknown layout."""
    module = all_layouts().get(layout)
    return getattr(module, "OUTSIDE_TRANSACTION", None) if module is not None else None


def _module_names() -> list[str]:
    names = []
    for directory in __path__:
        for filename in os.listdir(directory):
            stem, _, suffix = filename.partition(".")
            if suffix == "py" and not stem.startswith("_") and _MODULE_NAME.match(stem):
                names.append(stem)
    return names


def layout_ids() -> list[str]:
    return list(all_layouts())


def check_layout_id(layout: str, key: str = "layout") -> None:
    if layout != AUTO and layout not in all_layouts():
        raise UsageError(f"{key}: unknown layout {layout!r} (one of: {AUTO}, {', '.join(layout_ids())})")


# -- detection -------------------------------------------------------------------------


class Detected(NamedTuple):
    layout: str | None  # None: .sql files that no layout recognizes
    candidates: tuple[str, ...]  # every layout that had evidence


def entries(directory: str) -> list[str]:
    return scan(directory)[0]


def scan(directory: str) -> tuple[list[str], frozenset[str]]:
    """The sorted entry names of a directory and those that are directories,
    in one pass (the kind of each entry comes with the listing: no stat per file)."""
    names, directories = [], []
    try:
        with os.scandir(directory or ".") as found:
            for entry in found:
                names.append(entry.name)
                try:
                    if entry.is_dir():
                        directories.append(entry.name)
                except OSError:
                    pass
    except OSError:
        return [], frozenset()
    names.sort()
    return names, frozenset(directories)


def detect(directory: str, names: list[str] | None = None) -> Detected:
    """The layout of a migrations directory, from its entries (and, for dbmate,
    the first lines of its files). The strongest evidence wins; two layouts
    with evidence within a factor of two are ambiguous (see `resolve`)."""
    names = entries(directory) if names is None else names
    scores = {}
    for layout_id, module in all_layouts().items():
        score = module.evidence(directory or ".", names)
        if score > 0:
            scores[layout_id] = score
    if not scores:
        has_sql = any(name.lower().endswith(".sql") for name in names)
        return Detected(None if has_sql else "mobius", ())
    ranked = sorted(scores, key=lambda layout_id: -scores[layout_id])
    best = scores[ranked[0]]
    # Close evidence for two layouts (a mixed directory) is a question only
    # the user can answer; a stray file of another layout is MSC110's.
    close = tuple(layout_id for layout_id in ranked if scores[layout_id] * 2 > best)
    return Detected(ranked[0] if len(close) == 1 else None, close)


def resolve(directory: str, layout: str, names: list[str] | None = None) -> str | None:
    """The layout in force for `directory`: the configured one, or the
    detected one. None: no layout recognizes its `.sql` files (MSC110).
    Ambiguous evidence is a usage error naming the candidates and the key."""
    if layout != AUTO:
        check_layout_id(layout)
        return layout
    detected = detect(directory, names)
    if detected.layout is None and len(detected.candidates) > 1:
        raise UsageError(
            f"{directory or '.'}: the migration layout is ambiguous: it could be "
            f"{' or '.join(detected.candidates)}; set `layout = \"{detected.candidates[0]}\"` "
            "(or another) in the config to choose")
    return detected.layout


def list_units(directory: str, layout: str = AUTO, options: Options | None = None,
               extra_names: Sequence[str] = ()) -> Listing:
    """The directory as the layout in force sees it. A directory no layout
    recognizes lists every `.sql` file as ignored. `extra_names`: files the
    caller holds that the disk does not (an editor buffer whose file was
    deleted, or not yet saved), listed as if they were there."""
    on_disk, directories = scan(directory)
    names = sorted(set(on_disk) | set(extra_names)) if extra_names else on_disk
    try:
        chosen = resolve(directory, layout, names)
    except UsageError:
        if not extra_names:
            raise
        # A buffer's name with no file to read (a dbmate marker) must not make
        # the directory ambiguous: the files on disk decide.
        chosen = resolve(directory, layout, on_disk)
    if chosen is None:
        sql = [os.path.join(directory, name) for name in names if name.lower().endswith(".sql")]
        expected = "; ".join(f"{m.ID}: {m.EXPECTED}" for m in all_layouts().values())
        reason = f"no migration layout recognizes this directory (expected one of {expected})"
        return Listing("unknown", directory, [], [Ignored(path, reason) for path in sql], [], [], [], False)
    options = (options or Options())._replace(subdirectories=directories)
    return all_layouts()[chosen].list_units(directory, names, options)


# -- finding the migrations directory -----------------------------------------------------


class NoMigrationsDirectory(UsageError):
    pass


def candidate_directories(root: str = ".") -> list[str]:
    """Where the layouts keep their migrations, this project's first: a
    Supabase project (supabase/config.toml) before anything else."""
    candidates = []
    if os.path.isfile(os.path.join(root, "supabase", "config.toml")):
        candidates.append("supabase/migrations")
    # The common names first, then each layout's own (Flyway's).
    for relative in ("migrations", "db/migrations", "prisma/migrations", "supabase/migrations"):
        if relative not in candidates:
            candidates.append(relative)
    for module in all_layouts().values():
        for relative in module.PROJECT_DIRS:
            if relative not in candidates:
                candidates.append(relative)
    return candidates


def find_migrations_directory(root: str = ".") -> str:
    """The first existing candidate directory (relative to `root`, spelled
    as the user would); raises NoMigrationsDirectory saying where it looked."""
    candidates = candidate_directories(root)
    for relative in candidates:
        if os.path.isdir(os.path.join(root, relative)):
            return relative if root == "." else os.path.join(root, relative)
    raise NoMigrationsDirectory(
        f"no migrations directory found (looked for {', '.join(candidates)} in {os.path.abspath(root)}); "
        "pass a path, or set `migrations = \"<dir>\"` in mobius-sqlcheck.toml "
        "(or [tool.mobius_sqlcheck] in pyproject.toml)")


# -- helpers shared by the layout modules -----------------------------------------------


# While a directory is listed for the editor, the layouts read what the editor
# holds (a dbmate buffer's sections move as you type), not the disk.
_BUFFERED: ContextVar[Callable[[str], bytes | None] | None] = ContextVar("buffered", default=None)


@contextmanager
def reading_buffers(buffered: Callable[[str], bytes | None] | None) -> Iterator[None]:
    """Within: a file the editor has open reads as its buffer's bytes."""
    token = _BUFFERED.set(buffered)
    try:
        yield
    finally:
        _BUFFERED.reset(token)


def buffered_bytes(path: str) -> bytes | None:
    lookup = _BUFFERED.get()
    return lookup(path) if lookup is not None else None


def is_sql(name: str) -> bool:
    return name.lower().endswith(".sql")


def sql_files(directory: str, names: list[str], options: Options) -> list[tuple[str, str]]:
    """The `.sql` files among a directory's entries (not directories named
    so), as (name, path): what a layout of flat files looks at."""
    return [(name, os.path.join(directory, name)) for name in names
            if is_sql(name) and not options.is_directory(directory, name)]


def migration_directories(directory: str, names: list[str], options: Options,
                          loose: str) -> tuple[list[tuple[str, str, list[str]]], list[Ignored]]:
    """For a tool that keeps each migration in a directory of its own
    (diesel, Prisma): each subdirectory as (name, path, the `.sql` names in
    it, sorted), and the loose `.sql` files beside them, which the tool never
    runs (ignored, saying `loose`)."""
    found, ignored = [], []
    for entry in names:
        path = os.path.join(directory, entry)
        if options.is_directory(directory, entry):
            found.append((entry, path, sorted(name for name in os.listdir(path) if is_sql(name))))
        elif is_sql(entry):
            ignored.append(Ignored(path, loose))
    return found, ignored


def read_text(path: str) -> str:
    """A file's text for markers; empty if it cannot be read (the engine reports that)."""
    from mobius_sqlcheck.source import read_file_bytes

    data = buffered_bytes(path)
    try:
        data = read_file_bytes(path) if data is None else data
    except OSError:
        return ""
    return data.decode("utf-8", "replace").removeprefix("\ufeff")


def has_our_no_transaction(text: str) -> bool:
    return "no-transaction" in text and NO_TRANSACTION_DIRECTIVE.search(text) is not None


def next_number(versions: Sequence[str]) -> str:
    """The version after `versions` in their style: a 14-digit UTC timestamp
    stays one (now, or one more than the newest), a number counts up with
    its zero padding (`004` -> `005`)."""
    import time

    numbered = [v for v in versions if v.isdigit()]
    if not numbered:
        return "001"
    newest = max(numbered, key=int)
    if len(newest) == 14:
        return str(max(int(newest) + 1, int(time.strftime("%Y%m%d%H%M%S", time.gmtime()))))
    return str(int(newest) + 1).zfill(len(newest))


# Statements PostgreSQL runs outside a transaction block that a fix writes
# (CREATE / DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY).
_CONCURRENT_INDEX = re.compile(
    r"^(create\s+(unique\s+)?index\s+concurrently|drop\s+index\s+concurrently"
    r"|reindex\s+(\([^)]*\)\s*)?(index|table|schema|database|system)\s+concurrently)\b", re.IGNORECASE)
_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def concurrent_index_statements(text: str) -> int:
    """How many statements `text` holds when every one is a concurrent index
    build or drop; 0 when any is not (or there is none). A light split on
    `;`: a `;` inside a string makes a part that does not match, so 0."""
    statements = [part.strip() for part in _SQL_COMMENT.sub(" ", text).split(";") if part.strip()]
    return len(statements) if all(_CONCURRENT_INDEX.match(statement) for statement in statements) else 0


def create_file(path: str, text: str) -> Change:
    return Change(path, 0, 0, text, create=True)


def digits_order(version: str) -> tuple[int, ...]:
    """Numbers in a version, in order: "2024-06-11-120000" -> (2024, 6, 11, 120000)."""
    return tuple(int(part) for part in re.findall(r"[0-9]+", version))

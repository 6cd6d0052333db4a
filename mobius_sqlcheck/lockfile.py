"""The migration lock file, `sqlcheck.sum` in the migrations directory.

    h1:QJrL1+9ojXqyD6ysYQWhAalMA3oBTeibb8XnVmk2N1k=
    001_initial_schema.sql h1:3hGU9pQ3sKMfjy2Ub1C2b/2dsmItEB9GbhBBr3bPVAs=
    001_initial_schema_rollback.sql h1:6m2Ko8XjZ1sFqGk3mA0p0YxU8cYw7Jb8bXH3zHk2qEo=
    ...

One line per migration file (forward and rollback) in apply order, each with
the SHA-256 of the file (`h1:` + base64, as in Atlas's atlas.sum; the prefix
names the algorithm so it can change later). The first line is the SHA-256 of
all the entry lines: two branches that each add a migration both rewrite it,
so git reports a merge conflict instead of merging the two silently.

A file's sum ignores a UTF-8 byte-order mark and reads CRLF line ends as LF:
git's core.autocrlf rewrites line ends on Windows checkouts, and that must not
make every locked migration look edited. (The applier's history checksum is
over the raw bytes; this file only guards the repository.)
"""

from __future__ import annotations

import os
from typing import NamedTuple

from mobius_sqlcheck.migrations import MigrationFile, MigrationSet, classify_filename
from mobius_sqlcheck.source import read_file_bytes

SUM_PREFIX = "h1:"
_UTF8_BOM = b"\xef\xbb\xbf"
_CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")


class LockFileError(Exception):
    """The lock file cannot be read or parsed; `line` is 1-based (0: whole file)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


class LockFile(NamedTuple):
    total: str  # as written on the first line
    entries: dict[str, str]  # file name -> sum, in file order

    @property
    def is_consistent(self) -> bool:
        """False when the first line does not match the entries: merged or edited by hand."""
        return self.total == entries_sum(self.entries)

    def newest_forward(self) -> MigrationFile | None:
        """The locked forward migration that applies last."""
        forwards = [m for m in map(classify_filename, self.entries) if m is not None and not m.is_rollback]
        return max(forwards, key=lambda m: m.sort_key, default=None)


def newest_locked(lock: LockFile, migration_set: MigrationSet) -> MigrationFile | None:
    """The locked forward migration that applies last, in the layout's order:
    names that order themselves (mobius, Supabase) by the lock's own entries;
    any other layout (diesel's dashed dates, Flyway's dotted versions) by its
    listing, over the locked files still present. A Flyway repeatable (R__)
    always runs after the versioned ones: it is never the newest."""
    if migration_set.layout in ("mobius", "supabase"):
        return lock.newest_forward()
    return max((m for m in migration_set.forwards if m.filename in lock.entries and not m.repeatable),
               key=lambda m: m.sort_key, default=None)


def inserted_before_newest(lock: LockFile, migration_set: MigrationSet) -> tuple[MigrationFile | None, list[MigrationFile]]:
    """The newest locked migration, and the unlocked forward migrations that sort before it."""
    newest = newest_locked(lock, migration_set)
    if newest is None:
        return None, []
    return newest, [m for m in migration_set.forwards if m.filename not in lock.entries and m.sort_key < newest.sort_key]


# -- sums -------------------------------------------------------------------------


def _h1(data: bytes) -> str:
    # Imported here: every lint imports this module, most runs without a lock file to check.
    import base64
    import hashlib

    return SUM_PREFIX + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def content_sum(data: bytes) -> str:
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    return _h1(data.replace(b"\r\n", b"\n"))


def file_sum(path: str) -> str | None:
    """The sum of a file on disk, or None if it cannot be read."""
    try:
        return content_sum(read_file_bytes(path))  # a named pipe would block open()
    except OSError:
        return None


class FileSums:
    """The sums of a run's files, of the bytes the lint engine already read
    where it read them (no second read), else of the file on disk."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def record(self, path: str, data: bytes) -> None:
        """`data`: the whole file as read (a UTF-8 BOM removed or not: the sum ignores it)."""
        self._known[path] = content_sum(data)

    def of(self, path: str) -> str | None:
        known = self._known.get(path)
        return known if known is not None else file_sum(path)


def entries_sum(entries: dict[str, str]) -> str:
    return _h1(_entry_lines(entries).encode("utf-8"))


def _entry_lines(entries: dict[str, str]) -> str:
    return "".join(f"{name} {digest}\n" for name, digest in entries.items())


# -- building, writing, reading -------------------------------------------------------


def lock_path(directory: str, lock_file: str) -> str:
    return os.path.join(directory or ".", lock_file)


def locked_files(migration_set: MigrationSet) -> list[MigrationFile]:
    """The files a lock file lists, in apply order (a forward before its rollback);
    a file holding both (a dbmate up and down section) is listed once."""
    files = sorted(migration_set.all_files(), key=lambda m: (m.number, m.name, m.is_rollback, m.filename))
    first_of_path: dict[str, MigrationFile] = {}
    for migration in files:
        first_of_path.setdefault(migration.path, migration)
    return list(first_of_path.values())


def build(migration_set: MigrationSet) -> LockFile:
    entries: dict[str, str] = {}
    for migration in locked_files(migration_set):
        digest = file_sum(migration.path)
        if digest is None:
            raise LockFileError(f"cannot read {migration.path}")
        entries[migration.filename] = digest
    return LockFile(entries_sum(entries), entries)


def render(lock: LockFile) -> str:
    return f"{lock.total}\n{_entry_lines(lock.entries)}"


def write(path: str, lock: LockFile) -> None:
    # Write-then-rename: an interrupted run never leaves half a lock file.
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(render(lock))
    os.replace(temporary, path)


def read(path: str) -> LockFile | None:
    """The lock file at `path`, or None when there is none."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise LockFileError(f"cannot read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LockFileError("not UTF-8 text") from None
    return parse(text)


def parse(text: str) -> LockFile:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise LockFileError("empty", 1)
    _check_line(lines[0], 1)
    total = lines[0].strip()
    if " " in total or not total.startswith(SUM_PREFIX):
        raise LockFileError(f"the first line must be the {SUM_PREFIX} sum of the entries", 1)
    entries: dict[str, str] = {}
    for number, line in enumerate(lines[1:], 2):
        name, digest = _parse_entry(line, number)
        if name in entries:
            raise LockFileError(f"{name} is listed twice", number)
        entries[name] = digest
    return LockFile(total, entries)


def _parse_entry(line: str, number: int) -> tuple[str, str]:
    _check_line(line, number)
    name, _, digest = line.strip().rpartition(" ")
    if not name or not digest.startswith(SUM_PREFIX):
        raise LockFileError(f"expected `<file> {SUM_PREFIX}<sum>`, got {line.strip()!r}", number)
    return name, digest


def _check_line(line: str, number: int) -> None:
    if line.startswith(_CONFLICT_MARKERS):
        raise LockFileError("unresolved merge conflict", number)


# -- for the rules ------------------------------------------------------------------------


def read_quietly(migration_set: MigrationSet, lock_file: str) -> LockFile | None:
    """The directory's lock file, or None when there is none or it is invalid
    (MSC109 reports an invalid one; the other lock rules then stay quiet)."""
    try:
        return read(lock_path(migration_set.directory, lock_file))
    except LockFileError:
        return None


def anchor_path(migration_set: MigrationSet) -> str:
    """Where to report a finding about the lock file itself: the newest
    forward migration (the file a branch most likely added), since the
    engine reports findings only on the migrations being linted."""
    if migration_set.forwards:
        return migration_set.forwards[-1].path
    files = migration_set.all_files()
    return files[-1].path if files else migration_set.directory

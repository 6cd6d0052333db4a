"""dbmate: `db/migrations/{version}_{name}.sql`, one file with two sections.

    -- migrate:up
    create table ...;

    -- migrate:down
    drop table ...;

Each section runs in its own transaction unless its marker line says
`transaction:false` (`-- migrate:up transaction:false`). A `.sql` file
without a `-- migrate:up` line is refused by dbmate (MSC110 here). Versions
are compared as numbers (usually 14-digit timestamps).
"""

from __future__ import annotations

import os
import re

from mobius_sqlcheck.layouts import (
    Change, Ignored, Listing, Options, Script, Section, Unit, buffered_bytes, create_file, has_our_no_transaction,
    is_sql, next_number, sql_files
)

ID = "dbmate"
SUMMARY = "dbmate: <version>_<name>.sql holding -- migrate:up and -- migrate:down sections"
HAS_ROLLBACKS = True
EXPECTED = "<version>_<name>.sql starting with a `-- migrate:up` line"
PROJECT_DIRS = ("db/migrations",)
# MSC504's hint: how this tool runs a statement that cannot run in a transaction.
OUTSIDE_TRANSACTION = (
    "Move it to its own migration whose `-- migrate:up` line says `transaction:false`, with IF [NOT] "
    "EXISTS so that a retry can re-run it.")
SEQUENTIAL = False


def expected_rollback(unit: Unit) -> str:
    return "`-- migrate:down` section"

FILE_NAME = re.compile(r"^([0-9]+)_?(.*)\.sql$")
# dbmate's pkg/dbmate/migration.go: a marker line and its options.
UP = re.compile(rb"^--\s*migrate:up(?P<options>[ \t]+[^\r\n]*)?[ \t]*\r?$", re.MULTILINE)
DOWN = re.compile(rb"^--\s*migrate:down(?P<options>[ \t]+[^\r\n]*)?[ \t]*\r?$", re.MULTILINE)
_HEAD = 4096  # the up marker is near the top; detection reads no further


def _read(path: str, limit: int = -1) -> bytes:
    buffered = buffered_bytes(path)
    if buffered is not None:
        return buffered if limit < 0 else buffered[:limit]
    try:
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as handle:
            if not os.path.isfile(path):
                return b""
            return handle.read(limit)
    except OSError:
        return b""


def has_up_marker(path: str) -> bool:
    if not FILE_NAME.match(os.path.basename(path)):
        return False
    head = _read(path, _HEAD)
    return b"migrate:up" in head and UP.search(head) is not None


# Detection reads the first lines of at most this many files, spread evenly
# over the names (the first and the last among them): deciding a layout must
# not cost a read per file of a long history.
SAMPLE = 32


def marked_names(directory: str, names: list[str]) -> tuple[list[str], dict[str, bool]]:
    """The `.sql` names dbmate could apply (by name alone), and for a bounded,
    evenly spread sample of them whether the file has an up marker (every
    one of them when there are at most SAMPLE)."""
    named = [name for name in names if is_sql(name) and FILE_NAME.match(name)]
    if len(named) <= SAMPLE:
        sample = named
    else:
        step = (len(named) - 1) / (SAMPLE - 1)
        sample = [named[round(index * step)] for index in range(SAMPLE)]
    return named, {name: has_up_marker(os.path.join(directory, name)) for name in sample}


def estimated_marked(named: list[str], sampled: dict[str, bool]) -> float:
    """How many of `named` have an up marker: those sampled as they are, the
    others in the sample's proportion (exact when every name was sampled)."""
    if not sampled:
        return 0.0
    share = sum(sampled.values()) / len(sampled)
    return sum(sampled.values()) + share * (len(named) - len(sampled))


def evidence(directory: str, names: list[str]) -> int:
    named, sampled = marked_names(directory, names)
    return round(10 * estimated_marked(named, sampled))


def _in_transaction(options: bytes | None) -> bool:
    return b"transaction:false" not in (options or b"").replace(b" ", b"")


def sections(path: str, data: bytes) -> tuple[Section, bool, Section | None, bool] | None:
    """The up and down sections of a dbmate file (byte offsets after a BOM)
    and whether each runs in a transaction; None without an up marker."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    up = UP.search(data)
    if up is None:
        return None
    down = DOWN.search(data, up.end())
    up_start = _next_line(data, up.end())
    if down is None:
        return Section(path, up_start, None), _in_transaction(up["options"]), None, True
    down_section = Section(path, _next_line(data, down.end()), None)
    return (Section(path, up_start, down.start()), _in_transaction(up["options"]),
            down_section, _in_transaction(down["options"]))


def next_version(versions: list[str]) -> str:
    return next_number(versions)


def new_migration(directory: str, version: str, name: str, up: Script, down: Script | None,
                  options: Options) -> list[Change] | None:
    text = f"-- migrate:up{_options(up)}\n{up.sql}"
    if down is not None:
        text += f"\n-- migrate:down{_options(down)}\n{down.sql}"
    return [create_file(os.path.join(directory, f"{version}_{name}.sql"), text)]


def _options(script: Script) -> str:
    return "" if script.in_transaction else " transaction:false"


_UP_TEXT = re.compile(r"^--\s*migrate:up(?P<options>[ \t]+[^\r\n]*)?[ \t]*\r?$", re.MULTILINE)


def run_outside_transaction(path: str, text: str) -> list[Change] | None:
    """`transaction:false` on the `-- migrate:up` line (the down section keeps its own)."""
    up = _UP_TEXT.search(text)
    if up is None:
        return None
    if not _in_transaction((up["options"] or "").encode()):
        return []
    at = up.start() + up.group(0).index("migrate:up") + len("migrate:up")
    return [Change(path, at, at, " transaction:false")]


def _next_line(data: bytes, offset: int) -> int:
    newline = data.find(b"\n", offset)
    return len(data) if newline == -1 else newline + 1


def list_units(directory: str, names: list[str], options: Options) -> Listing:
    found = []
    ignored = []
    for filename, path in sql_files(directory, names, options):
        match = FILE_NAME.match(filename)
        if match is None:
            ignored.append(Ignored(path, f"dbmate needs a version: not named {EXPECTED}"))
            continue
        data = _read(path)
        parts = sections(path, data)
        if parts is None:
            ignored.append(Ignored(path, "dbmate refuses it: no `-- migrate:up` line"))
            continue
        up, up_in_transaction, down, down_in_transaction = parts
        ours = has_our_no_transaction(data.decode("utf-8", "replace"))
        found.append(Unit(match[1], match[2], filename, up, down, up_in_transaction and not ours,
                          (int(match[1]), match[2]), rollback_in_transaction=down_in_transaction and not ours))
    found.sort(key=lambda unit: unit.order)
    return Listing(ID, directory, found, ignored, [], [], [], HAS_ROLLBACKS)

"""Flyway: `V<version>__<description>.sql`, repeatable `R__<description>.sql`.

The version is dotted, `_` reading as `.` (`V1_2__x.sql` is 1.2), compared
part by part as numbers. Repeatable migrations apply after every versioned
one, in description order, and again whenever their checksum changes. Undo
migrations (`U<version>__<description>.sql`, paid editions) are the
rollbacks: once any exists, every versioned migration needs one (MSC401).
Each script runs in a transaction unless its script config file
`<script>.sql.conf` says `executeInTransaction=false`. A `.sql` file not
named so is never run (MSC110 here).
"""

from __future__ import annotations

import os
import re

from mobius_sqlcheck.layouts import (
    Change, Ignored, Listing, Options, Script, Section, Unit, create_file, read_text, sql_files
)

ID = "flyway"
SUMMARY = "Flyway: V<version>__<description>.sql, R__<description>.sql, undo U<version>__<description>.sql"
HAS_ROLLBACKS = False  # only once an undo file exists
EXPECTED = "V<version>__<description>.sql, R__<description>.sql or U<version>__<description>.sql"
PROJECT_DIRS = ("src/main/resources/db/migration", "db/migration", "sql")
# MSC504's hint: how this tool runs a statement that cannot run in a transaction.
OUTSIDE_TRANSACTION = (
    "Move it to its own migration with a `<script>.sql.conf` saying `executeInTransaction=false`, with IF"
    " [NOT] EXISTS so that a retry can re-run it.")
SEQUENTIAL = False


def expected_rollback(unit: Unit) -> str:
    return f"undo file U{unit.display[1:]}"

VERSIONED = re.compile(r"^(?P<kind>[VU])(?P<version>[0-9]+(?:[._][0-9]+)*)__(?P<description>.+)\.sql$")
REPEATABLE = re.compile(r"^R__(?P<description>.+)\.sql$")
_NO_TRANSACTION = re.compile(r"^\s*flyway\.executeInTransaction\s*=\s*false\s*$|^\s*executeInTransaction\s*=\s*false\s*$",
                             re.MULTILINE | re.IGNORECASE)


def evidence(directory: str, names: list[str]) -> int:
    return 10 * sum(1 for name in names if VERSIONED.match(name) or REPEATABLE.match(name))


def _in_transaction(path: str, options: Options) -> bool:
    config = read_text(f"{path}.conf")
    return not (config and _NO_TRANSACTION.search(config)) and options.in_transaction(path)


def next_version(versions: list[str]) -> str:
    """The newest version with its last part counted up (1.2 -> 1.3, 7 -> 8)."""
    dotted = [v for v in versions if v]
    if not dotted:
        return "1"
    newest = max(dotted, key=lambda v: tuple(int(p) for p in v.split(".")))
    *head, last = newest.split(".")
    return ".".join([*head, str(int(last) + 1)])


def new_migration(directory: str, version: str, name: str, up: Script, down: Script | None,
                  options: Options) -> list[Change] | None:
    """`V<version>__<name>.sql` (and its undo `U` file), each with a script
    config file saying `executeInTransaction=false` where it needs one."""
    files = []
    for kind, script in (("V", up), ("U", down)):
        if script is None:
            continue
        path = os.path.join(directory, f"{kind}{version.replace('.', '_')}__{name}.sql")
        files.append(create_file(path, script.sql))
        if not script.in_transaction:
            files.append(create_file(f"{path}.conf", "executeInTransaction=false\n"))
    return files


_EXECUTE_IN_TRANSACTION = re.compile(r"^[ \t]*(flyway\.)?executeInTransaction[ \t]*=.*$", re.MULTILINE | re.IGNORECASE)


def run_outside_transaction(path: str, text: str) -> list[Change] | None:
    """`executeInTransaction=false` in the script's `<script>.sql.conf`."""
    conf = f"{path}.conf"
    if not os.path.isfile(conf):
        return [create_file(conf, "executeInTransaction=false\n")]
    current = read_text(conf)
    if _NO_TRANSACTION.search(current):
        return []
    line = _EXECUTE_IN_TRANSACTION.search(current)
    if line is not None:
        return [Change(conf, line.start(), line.end(), "executeInTransaction=false")]
    at = len(current)
    return [Change(conf, at, at, ("" if current.endswith("\n") or not current else "\n") + "executeInTransaction=false\n")]


def list_units(directory: str, names: list[str], options: Options) -> Listing:
    versioned: dict[tuple[int, ...], tuple[str, str, str]] = {}  # parts -> (version, description, path)
    undo: dict[tuple[int, ...], str] = {}
    repeatable: list[tuple[str, str]] = []
    ignored = []
    for filename, path in sql_files(directory, names, options):
        match = VERSIONED.match(filename)
        if match is not None:
            version = match["version"].replace("_", ".")
            parts = tuple(int(part) for part in version.split("."))
            if match["kind"] == "U":
                undo[parts] = path
            elif parts in versioned:
                ignored.append(Ignored(path, f"Flyway refuses a second migration of version {version}"))
            else:
                versioned[parts] = (version, match["description"], path)
            continue
        match = REPEATABLE.match(filename)
        if match is not None:
            repeatable.append((match["description"], path))
        else:
            ignored.append(Ignored(path, f"Flyway runs only {EXPECTED}"))
    units = []
    for parts in sorted(versioned):
        version, description, path = versioned[parts]
        rollback = undo.pop(parts, None)
        units.append(Unit(version, description, os.path.basename(path), Section(path),
                          Section(rollback) if rollback else None, _in_transaction(path, options), (0, parts, ""),
                          rollback_in_transaction=_in_transaction(rollback, options) if rollback else True))
    for description, path in sorted(repeatable):
        units.append(Unit("", description, os.path.basename(path), Section(path), None,
                          _in_transaction(path, options), (1, (), description), repeatable=True))
    has_undo = bool(undo) or any(unit.rollback for unit in units)
    orphans = [Section(path) for _, path in sorted(undo.items())]
    return Listing(ID, directory, units, ignored, [], orphans, [], has_undo)

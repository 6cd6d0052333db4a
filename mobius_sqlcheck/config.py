"""The configuration, validated into a typed Config: `[tool.mobius_sqlcheck]`
in pyproject.toml, or the same keys at the top level of `mobius-sqlcheck.toml`
/ `.mobius-sqlcheck.toml` (for projects without Python). The nearest of these
files, upwards from the current directory, wins; `--config` names one.

Every bad value raises UsageError naming the key, so the CLI exits 2 with a
message the user can act on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, Iterator, NamedTuple

from mobius_sqlcheck.errors import UsageError

SECTION = "tool.mobius_sqlcheck"
# Config files, nearest first at each directory level; top-level keys except pyproject.toml.
CONFIG_FILES = ("mobius-sqlcheck.toml", ".mobius-sqlcheck.toml", "pyproject.toml")
SEVERITIES = ("error", "warning", "off")
FAIL_LEVELS = ("error", "warning")
SUPABASE_HISTORY_MODES = ("read", "write")  # applier/supabase_history.py
# Who applies the migrations: our applier sets lock_timeout itself; any other runner needs it in the file.
RUNNERS = ("mobius-sqlcheck", "other")

# Keys of the tool itself. Rule options (e.g. index_name_pattern) are
# declared by their rule (`OPTIONS`), with their defaults: see `defaults()`.
GENERAL_DEFAULTS: dict[str, Any] = {
    "migrations": "migrations",  # a directory, or a list of them (each its own history)
    "layout": "auto",  # or a layout id: mobius, supabase, golang-migrate, dbmate, diesel, flyway, prisma
    "rollbacks": "",  # supabase: a directory of rollback files outside supabase/migrations
    "require_rollback": False,  # MSC401 even where the layout has no rollbacks
    "select": (),  # empty: every rule on by default
    "ignore": (),
    "per_file_ignores": {},  # glob -> codes or prefixes, e.g. {"005_*.sql" = ["MSC306"]}
    "severity": {},
    "fail_on": "error",
    "pooler_port": 6543,
    "allowed_hosts": ("localhost", "127.0.0.1", "::1"),
    "grandfathered_duplicate_versions": (),
    "format_check": False,
    "sqlfluff_config": "",  # an explicit sqlfluff config file, layered over the ones sqlfluff finds
    "lock_file": "sqlcheck.sum",
    "statement_timeout": "15min",
    "lock_timeout": "3s",
    "lock_retries": 5,  # further attempts after a lock timeout, with jittered backoff
    "lease_wait_timeout": "30min",  # how long to wait for another run's lock or lease
    "postgres_version": 15,  # the major version whose measured lock model the rules use
    "runner": "mobius-sqlcheck",  # who applies the migrations: "mobius-sqlcheck" or "other" (MSC310)
    # "write": apply also records each migration in the Supabase CLI's history
    "supabase_history": "read",
    "cache_dir": "",  # the lint cache (default: .mobius_sqlcheck_cache/ at the project root)
}


@cache
def defaults() -> Mapping[str, Any]:
    """Every key with its default: the tool's own and every rule's OPTIONS."""
    from mobius_sqlcheck.rules import all_rules

    merged = dict(GENERAL_DEFAULTS)
    for rule in all_rules().values():
        for key, value in rule.options.items():
            if key in merged and merged[key] != value:
                raise ValueError(f"rule {rule.code} redefines config key {key}")
            merged[key] = value
    return MappingProxyType(merged)


class Config:
    """The effective configuration, immutable: `replace(**changes)` makes a
    changed copy. Keys and defaults are `defaults()`; `Config(**table)` takes
    already type-checked values (lists become tuples, tables read-only).

    `migrations` may be a list of directories: `migration_directories` holds
    them all, `migrations` the first; `migrations_configured` says whether the
    configuration named any (else the commands look where the layouts keep theirs)."""

    migrations: str
    migration_directories: tuple[str, ...]
    migrations_configured: bool
    layout: str
    rollbacks: str
    require_rollback: bool
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    per_file_ignores: Mapping[str, tuple[str, ...]]
    severity: Mapping[str, str]
    fail_on: str
    index_name_pattern: str
    trigger_name_pattern: str
    constraint_name_pattern: str
    pooler_port: int
    allowed_hosts: tuple[str, ...]
    grandfathered_duplicate_versions: tuple[str, ...]
    format_check: bool
    sqlfluff_config: str
    lock_file: str
    statement_timeout: str
    lock_timeout: str
    cache_dir: str
    lock_retries: int
    lease_wait_timeout: str
    postgres_version: int
    runner: str
    supabase_history: str
    source: str | None

    def __init__(self, source: str | None = None, **values: Any) -> None:
        configured = values.pop("migrations_configured", "migrations" in values)
        directories = values.get("migrations", defaults()["migrations"])
        directories = (directories,) if isinstance(directories, str) else tuple(directories)
        values["migrations"] = directories[0] if directories else defaults()["migrations"]
        for key, default in defaults().items():
            object.__setattr__(self, key, _frozen(values.pop(key, default)))
        if values:
            raise TypeError(f"unknown config keys: {sorted(values)}")
        object.__setattr__(self, "migration_directories", directories or (self.migrations,))
        object.__setattr__(self, "migrations_configured", bool(configured))
        object.__setattr__(self, "source", source)  # where the config came from, for messages
        object.__setattr__(self, "_patterns", {})  # compiled patterns: a cache of values that never change

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Config is immutable; use config.replace({name}=...)")

    def __repr__(self) -> str:
        return f"Config(source={self.source!r})"

    def values(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in defaults()}

    def replace(self, **changes: Any) -> Config:
        """A changed copy; a new `migrations` replaces every migrations directory."""
        kept = {"migrations": self.migration_directories, "migrations_configured": self.migrations_configured}
        return Config(source=self.source, **{**self.values(), **kept, **changes})

    def name_pattern(self, key: str) -> NamePattern:
        """The compiled naming pattern of `key`, e.g. "index_name_pattern"."""
        patterns: dict[str, NamePattern] = self.__dict__["_patterns"]
        pattern = patterns.get(key)
        if pattern is None:
            pattern = patterns[key] = NamePattern.compile(getattr(self, key), f"{SECTION}.{key}")
        return pattern

    def is_default(self, key: str) -> bool:
        return bool(getattr(self, key) == defaults()[key])


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    if isinstance(value, Mapping):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    return value


_TABLE_MARK = "\x00"  # stands for the table name inside a compiled pattern


class NamePattern(NamedTuple):
    """A naming pattern: a regular expression in which `{table}` stands for the
    table's name. Compiled once, not once per table: the name is matched with
    the table's name replaced by a mark instead."""

    template: str
    regex: re.Pattern[str]

    @staticmethod
    def compile(template: str, key: str = "pattern") -> NamePattern:
        try:
            return NamePattern(template, re.compile(template.replace("{table}", _TABLE_MARK)))
        except re.error as error:
            raise UsageError(f"{key}: invalid regular expression {template!r}: {error}") from None

    def matches(self, name: str, table: str) -> bool:
        if "{table}" not in self.template:
            return self.regex.match(name) is not None
        return any(self.regex.match(candidate) for candidate in _table_marked(name, table))

    def for_table(self, table: str) -> str:
        return self.template.replace("{table}", table)


def _table_marked(name: str, table: str) -> Iterator[str]:
    """`name` with every occurrence of `table` marked, then each one alone."""
    if not table or table not in name:
        return
    yield name.replace(table, _TABLE_MARK)
    at = name.find(table)
    while at != -1:
        yield name[:at] + _TABLE_MARK + name[at + len(table):]
        at = name.find(table, at + 1)


def _key_type(key: str) -> type | None:
    """Every key's type is its default's type (a list in TOML for a tuple)."""
    if key not in defaults():
        return None
    kind: type = type(defaults()[key])
    toml_types: dict[type, type] = {tuple: list, MappingProxyType: dict}
    return toml_types.get(kind, kind)


_LIST_ITEM_TYPES = {"select": str, "ignore": str, "allowed_hosts": str, "grandfathered_duplicate_versions": str}


def find_pyproject(start: str) -> str | None:
    """The nearest config file upwards from `start` (the name is historical)."""
    directory = os.path.abspath(start)
    while True:
        for name in CONFIG_FILES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load_config(explicit_path: str | None = None, start: str = ".") -> Config:
    path = explicit_path or find_pyproject(start)
    if path is None:
        return Config()
    import tomllib  # only with a config file: the hook in a project without one never pays for it

    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise UsageError(f"cannot read config {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: invalid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: invalid TOML: not UTF-8 (byte 0x{error.object[error.start]:02x})") from None
    prefix = SECTION
    # pyproject.toml (or any file given with a [tool.mobius_sqlcheck] table); else top-level keys.
    if os.path.basename(path) == "pyproject.toml" or isinstance(document.get("tool"), dict):
        tool = document.get("tool", {})
        if not isinstance(tool, dict):
            raise UsageError(f"{path}: [tool] must be a table")
        table = tool.get("mobius_sqlcheck")
        if table is None:
            if explicit_path:
                raise UsageError(f"{path}: no [{SECTION}] table")
            return Config()
    else:
        table, prefix = document, ""
    config = config_from_table(table, path, prefix)
    base = os.path.dirname(path)
    config = config.replace(migrations=tuple(_relative_to(d, base) for d in config.migration_directories))
    if config.rollbacks:
        config = config.replace(rollbacks=_relative_to(config.rollbacks, base))
    if config.cache_dir:
        config = config.replace(cache_dir=_relative_to(config.cache_dir, base))
    if config.sqlfluff_config:
        config = config.replace(sqlfluff_config=_relative_to(config.sqlfluff_config, base))
        if not os.path.isfile(config.sqlfluff_config):
            raise UsageError(f"{path}: {SECTION}.sqlfluff_config: no such file: {config.sqlfluff_config}")
    return config


def config_from_table(table: dict[str, Any], source: str = "pyproject.toml", prefix: str = SECTION) -> Config:
    if not isinstance(table, dict):
        raise UsageError(f"{source}: [{SECTION}] must be a table")
    for key, value in table.items():
        _check_type(key, value, source, prefix)
    config = Config(**table, source=source)
    _check_values(config, source, prefix)
    return config


def _key(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _check_type(key: str, value: Any, source: str, prefix: str = SECTION) -> None:
    expected = _key_type(key)
    if expected is None:
        raise UsageError(f"{source}: unknown key {_key(prefix, key)}")
    if key == "migrations" and isinstance(value, list):
        if not value or not all(isinstance(item, str) for item in value):
            raise UsageError(f"{source}: {_key(prefix, key)} must be a directory or a list of directories, "
                             f"got {value!r}")
        return
    # bool is an int in Python; a port of `true` is still wrong.
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise UsageError(f"{source}: {_key(prefix, key)} must be {_type_name(expected)}, got {value!r}")
    item_type = _LIST_ITEM_TYPES.get(key)
    if item_type and isinstance(value, list) and not all(isinstance(item, item_type) for item in value):
        raise UsageError(f"{source}: {_key(prefix, key)} must be a list of strings, got {value!r}")


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "a table"}
    return names.get(expected, str(expected)) if isinstance(expected, type) else "a value"


def _check_values(config: Config, source: str, prefix: str = SECTION) -> None:
    from mobius_sqlcheck.layouts import check_layout_id
    from mobius_sqlcheck.rules import expand_selectors

    check_layout_id(config.layout, f"{source}: {_key(prefix, 'layout')}")
    if config.fail_on not in FAIL_LEVELS:
        raise UsageError(f"{source}: {_key(prefix, 'fail_on')} must be one of {', '.join(FAIL_LEVELS)}")
    if config.supabase_history not in SUPABASE_HISTORY_MODES:
        raise UsageError(f"{source}: {_key(prefix, 'supabase_history')} must be one of {', '.join(SUPABASE_HISTORY_MODES)}")
    if not 0 < config.pooler_port < 65536:
        raise UsageError(f"{source}: {_key(prefix, 'pooler_port')} must be a TCP port (1-65535)")
    for key in ("select", "ignore"):
        expand_selectors(getattr(config, key), _key(prefix, key))
    for glob, codes in config.per_file_ignores.items():
        if not isinstance(codes, (list, tuple)) or not all(isinstance(code, str) for code in codes):
            raise UsageError(f"{source}: {_key(prefix, 'per_file_ignores')}.{glob} must be a list of rule codes")
        expand_selectors(codes, f"{_key(prefix, 'per_file_ignores')}.{glob}")
    for code, level in config.severity.items():
        expand_selectors([code], f"{_key(prefix, 'severity')}.{code}")
        if level not in SEVERITIES:
            raise UsageError(f"{source}: {_key(prefix, 'severity')}.{code} must be one of {', '.join(SEVERITIES)}")
    for key in defaults():
        if key.endswith("_name_pattern"):
            config.name_pattern(key)
    for key in ("statement_timeout", "lock_timeout", "lease_wait_timeout"):
        try:
            parse_duration(getattr(config, key))
        except ValueError as error:
            raise UsageError(f"{source}: {SECTION}.{key}: {error}") from None
    if not 0 <= config.lock_retries <= 100:
        raise UsageError(f"{source}: {SECTION}.lock_retries must be between 0 and 100")
    if config.runner not in RUNNERS:
        raise UsageError(f"{source}: {SECTION}.runner must be one of {', '.join(RUNNERS)}, got {config.runner!r}")
    _check_postgres_version(config.postgres_version, source)
    for version in config.grandfathered_duplicate_versions:
        if not version.isdigit():
            raise UsageError(f"{source}: {_key(prefix, 'grandfathered_duplicate_versions')}: {version!r} is not a version number")


def _check_postgres_version(version: int, source: str) -> None:
    from mobius_sqlcheck.locks import measured_versions  # reads the lock data only when the key is set

    if version != defaults()["postgres_version"] and version not in measured_versions():
        known = ", ".join(str(major) for major in measured_versions())
        raise UsageError(f"{source}: {SECTION}.postgres_version {version} has no measured lock model (known: {known})")


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)?\s*")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds in a PostgreSQL-style duration ("3s", "500ms", "15min"; a bare
    number is milliseconds, as for lock_timeout). Raises ValueError."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 500ms, 3s, 15min or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "ms"]


def _relative_to(path: str, base: str) -> str:
    if os.path.isabs(path):
        return path
    joined = os.path.join(base, path)
    try:
        return os.path.relpath(joined)
    except ValueError:  # another drive on Windows
        return joined

"""What sqlfluff's result for a file depends on, besides the file itself,
computed without importing sqlfluff.

sqlfluff layers config files found in the user's home and app-config
directories and in every directory from a file's up to the filesystem root
(`sqlfluff.core.config.loader.load_config_up_to_path`). Rather than copy that
walk exactly, the fingerprint covers a superset: every candidate config file in
all those places. Hashing a file that sqlfluff would not read only costs a
cache miss now and then; missing one it does read would serve stale results.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from functools import lru_cache

from mobius_sqlcheck import __version__

# sqlfluff's own list (load_config_at_path), in its precedence order.
CONFIG_NAMES = ("setup.cfg", "tox.ini", "pep8.ini", ".sqlfluff", "pyproject.toml")
DEFAULT_DIALECT = "postgres"
# Bump when what the worker returns, or how it calls sqlfluff, changes.
SCHEME = "1"


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """sqlfluff, its plugins, this tool and the defaults it applies."""
    # Plugins (e.g. sqlfluff-templater-dbt) add rules and templaters; sqlfluff
    # itself registers its rules as plugins, so its version is among them.
    entry_points = sorted(importlib.metadata.entry_points(group="sqlfluff"), key=lambda e: (e.name, e.value))
    versions: dict[str, str] = {}
    for entry_point in entry_points:  # one metadata read per package, not per entry point
        package = entry_point.value.split(".", 1)[0]
        if package not in versions:
            versions[package] = entry_point.dist.version if entry_point.dist is not None else "-"
    plugins = [f"{e.name}={e.value}" for e in entry_points] + [f"{p}@{v}" for p, v in sorted(versions.items())]
    return _digest([SCHEME, __version__, DEFAULT_DIALECT, *plugins])


def config_fingerprint(directory: str, extra_config: str | None) -> str:
    """The config files that may apply to SQL files in `directory`. Cached
    by what it depends on: the candidates' paths with their modification
    times and sizes (a `stat` each), so an edited `.sqlfluff` is read again
    in a long-running process."""
    candidates = [os.path.join(place, name) for place in _config_places(os.path.abspath(directory))
                  for name in CONFIG_NAMES]
    if extra_config:
        candidates.append(os.path.abspath(extra_config))
    return _config_digest(tuple((path, _stat_key(path)) for path in candidates), bool(extra_config))


@lru_cache(maxsize=64)
def _config_digest(candidates: tuple[tuple[str, tuple[int, int] | None], ...], has_extra: bool) -> str:
    paths = [path for path, _ in candidates]
    parts = [f"{path}:{_file_digest(path)}" for path in (paths[:-1] if has_extra else paths)]
    if has_extra:
        parts.append(f"extra:{paths[-1]}:{_file_digest(paths[-1])}")
    return _digest(parts)


def _stat_key(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size)


def _config_places(directory: str) -> list[str]:
    places = []
    while True:
        places.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    places += [home, os.path.join(xdg, "sqlfluff"),
               os.path.join(home, "Library", "Application Support", "sqlfluff"),
               os.path.join(os.environ.get("APPDATA", home), "sqlfluff")]
    return places


def _file_digest(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:  # absent (the usual case), a directory, unreadable
        return "-"


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()

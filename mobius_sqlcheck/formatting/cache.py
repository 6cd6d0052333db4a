"""The result cache: one small JSON file per (file content, config, versions) key.

Directory: `$MOBIUS_SQLCHECK_CACHE_DIR`, else `.mobius_sqlcheck_cache/` in
the project root (the nearest directory up from the working directory with a
pyproject.toml or .git). It ignores itself in git, as ruff's and pytest's
caches do, and is safe to delete at any time. A cache that cannot be written
(read-only checkout) only makes runs slower, never fails them.
"""

from __future__ import annotations

import json
import os

from mobius_sqlcheck.cache.location import DEFAULT_NAME, ENV_VAR, project_root

_SUBDIR = "sqlfluff"


def cache_dir() -> str:
    configured = os.environ.get(ENV_VAR)
    return configured if configured else os.path.join(project_root(), DEFAULT_NAME)


def _entry_path(root: str, key: str) -> str:
    return os.path.join(root, _SUBDIR, key[:2], f"{key}.json")


def get(root: str, key: str) -> dict | None:
    try:
        with open(_entry_path(root, key), encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def put(root: str, key: str, value: dict) -> None:
    path = _entry_path(root, key)
    try:
        _prepare(root)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        import tempfile

        # Write-then-rename: parallel runs (pre-commit, CI matrix) never read half an entry.
        descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(value, handle)
        os.replace(temporary, path)
    except OSError:
        pass


def _prepare(root: str) -> None:
    if os.path.isdir(root):
        return
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".gitignore"), "w", encoding="utf-8") as handle:
        handle.write("# Created by mobius-sqlcheck; safe to delete.\n*\n")
    with open(os.path.join(root, "CACHEDIR.TAG"), "w", encoding="utf-8") as handle:
        handle.write("Signature: 8a477f597d28d172789f06886806bc55\n# mobius-sqlcheck sqlfluff result cache\n")

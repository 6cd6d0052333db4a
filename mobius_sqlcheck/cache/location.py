"""Where the cache lives: `$MOBIUS_SQLCHECK_CACHE_DIR`, else `cache_dir` in
[tool.mobius_sqlcheck] (relative to its pyproject.toml), else
`.mobius_sqlcheck_cache/` at the project root (the nearest directory up from
the working directory with a pyproject.toml or .git). The directory ignores
itself in git (a `.gitignore` of `*`) and is safe to delete at any time."""

from __future__ import annotations

import os
from typing import Any

ENV_VAR = "MOBIUS_SQLCHECK_CACHE_DIR"
DEFAULT_NAME = ".mobius_sqlcheck_cache"


def cache_root(config: Any) -> str:
    configured = os.environ.get(ENV_VAR)
    if configured:
        return configured
    cache_dir = getattr(config, "cache_dir", "")
    if cache_dir:
        return cache_dir  # load_config made it relative to the config file
    return os.path.join(project_root(), DEFAULT_NAME)


def project_root(start: str = ".") -> str:
    directory = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(directory, "pyproject.toml")) or os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return os.path.abspath(start)
        directory = parent

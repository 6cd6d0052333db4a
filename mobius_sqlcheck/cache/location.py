"""Where the cache lives: `$MOBIUS_SQLCHECK_CACHE_DIR`, else `cache_dir` in
[tool.mobius_sqlcheck] (relative to its pyproject.toml), else
`.mobius_sqlcheck_cache/` at the project root (the nearest directory up from
the working directory with a pyproject.toml or .git). The directory ignores
itself in git (a `.gitignore` of `*`) and is safe to delete at any time."""

from __future__ import annotations

import os
from typing import Any

from mobius_sqlcheck.formatting.cache import DEFAULT_NAME, ENV_VAR, project_root


def cache_root(config: Any) -> str:
    configured = os.environ.get(ENV_VAR)
    if configured:
        return configured
    cache_dir = getattr(config, "cache_dir", "")
    if cache_dir:
        return cache_dir  # load_config made it relative to the config file
    return os.path.join(project_root(), DEFAULT_NAME)

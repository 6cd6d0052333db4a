"""The only module that imports sqlfluff. `process` runs in the main process
or in a pool worker and returns plain JSON-able data, which is what the cache
stores."""

from __future__ import annotations

import os
from typing import Any

from mobius_sqlcheck.formatting.fingerprint import DEFAULT_DIALECT

# (directory, extra config) -> sqlfluff Linter; built once per process.
_LINTERS: dict[tuple[str, str | None], Any] = {}


class ConfigError(Exception):
    """The user's sqlfluff configuration is invalid (same for every file)."""


def process(task: tuple[str, str, str, str | None]) -> dict:
    """`task` is (path, text with LF line ends, "check" or "fix", extra config).

    check -> {"violations": [[code, line, column, end_line, end_column, description, fixable], ...]}
    fix   -> {"fixed": new text, or None when nothing changed}
    a failure -> {"error": message, "config_error": bool}; never cached.
    """
    path, text, mode, extra_config = task
    try:
        linter = _linter(os.path.dirname(os.path.abspath(path)), extra_config)
        linted = linter.lint_string(text, fname=path, fix=(mode == "fix"))
    except ConfigError as error:
        return {"error": str(error), "config_error": True}
    except Exception as error:  # noqa: BLE001 - one file's sqlfluff failure must not stop the run
        return {"error": f"{type(error).__name__}: {error}", "config_error": False}
    if mode == "fix":
        fixed, _ = linted.fix_string()
        return {"fixed": fixed if fixed != text else None}
    return {"violations": [_violation(v.to_dict(), v.fixable) for v in linted.get_violations()]}


def _violation(data: dict, fixable: bool) -> list:
    line, column = data.get("start_line_no") or 1, data.get("start_line_pos") or 1
    return [data.get("code") or "????", line, column, data.get("end_line_no") or line,
            data.get("end_line_pos") or column, data.get("description") or "", bool(fixable)]


def _linter(directory: str, extra_config: str | None) -> Any:
    key = (directory, extra_config)
    if key not in _LINTERS:
        _LINTERS[key] = _build_linter(directory, extra_config)
    return _LINTERS[key]


def _build_linter(directory: str, extra_config: str | None) -> Any:
    from sqlfluff.core import FluffConfig, Linter

    try:
        config = FluffConfig.from_path(directory, extra_config_path=extra_config, require_dialect=False)
        if config.get("dialect") is None:
            config = FluffConfig.from_path(directory, extra_config_path=extra_config,
                                           overrides={"dialect": DEFAULT_DIALECT})
        return Linter(config=config)
    except Exception as error:  # noqa: BLE001 - sqlfluff raises KeyError, ValueError... for bad config
        raise ConfigError(f"sqlfluff configuration for {directory}: {type(error).__name__}: {error}") from None

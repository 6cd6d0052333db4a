"""Output formats. Each reporter is `render(result) -> str`; formatting lives
only here, never in rules or the engine."""

from __future__ import annotations

import importlib
from typing import Callable

from mobius_sqlcheck.diagnostics import LintResult

FORMATS = ("text", "json", "sarif", "github")


def renderer(name: str) -> Callable[..., str]:
    return importlib.import_module(f"mobius_sqlcheck.reporters.{name}_format").render

"""Output formats. Each reporter is `render(result) -> str`; formatting lives
only here, never in rules or the lint pipeline."""

from __future__ import annotations

import importlib
from typing import Callable

from mobius_sqlcheck.diagnostics import LintResult

Renderer = Callable[[LintResult], str]  # called as render(result, colour=...)

FORMATS = ("text", "json", "sarif", "github")


def renderer(name: str) -> Callable[..., str]:
    """The `render` function of a format (see `Renderer`)."""
    return importlib.import_module(f"mobius_sqlcheck.reporters.{name}_format").render

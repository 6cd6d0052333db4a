"""A finding as the pipeline carries it until the end of a run: with its
rule, and offsets still in bytes (positions are computed once, at the end)."""

from __future__ import annotations

from typing import NamedTuple

from mobius_sqlcheck.rules import Rule


class RawFinding(NamedTuple):
    rule: Rule
    path: str
    start: int
    end: int | None
    message: str
    hint: str | None

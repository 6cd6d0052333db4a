"""How volatile an expression is, as PostgreSQL would judge it.

Built-in functions come from `data/pg_volatility.json`, read from a real
PostgreSQL 15's pg_proc by `scripts/gen_pg_volatility.py` (an overloaded name
counts as its most volatile overload). The file is loaded only when an
expression calls a function, which keeps the hook's start-up fast. A function
created by the migrations has the volatility its definition declares; any
other function is taken as volatile, PostgreSQL's default.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import NamedTuple

from mobius_sqlcheck import nodes
from mobius_sqlcheck.catalog import Catalog

IMMUTABLE, STABLE, VOLATILE = "i", "s", "v"
_RANK = {IMMUTABLE: 0, STABLE: 1, VOLATILE: 2}
_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data", "pg_volatility.json")
BUILTIN_SCHEMA = "pg_catalog"


class Volatility(NamedTuple):
    level: str  # "i", "s" or "v"
    culprit: str | None = None  # the call that made it so, e.g. "gen_random_uuid()"
    location: int = -1  # that call's node location


@lru_cache(maxsize=1)
def builtin_volatility() -> dict[str, str]:
    with open(_DATA, encoding="utf-8") as handle:
        return json.load(handle)["functions"]


def function_volatility(parts: list[str], catalog: Catalog) -> str:
    """Volatility of a called function name. Unqualified names resolve as on
    Supabase: pg_catalog first (it is implicitly searched first), then public."""
    if len(parts) == 1 or parts[0] == BUILTIN_SCHEMA:
        builtin = builtin_volatility().get(parts[-1])
        if builtin is not None:
            return builtin
    # A call's argument types are not known here: the most volatile overload counts.
    levels = [function.volatility for function in catalog.overloads(nodes.qualified(parts))]
    return max(levels, key=_RANK.__getitem__) if levels else VOLATILE


def expression_volatility(expression: dict | None, catalog: Catalog) -> Volatility:
    """The most volatile function an expression calls (IMMUTABLE when none)."""
    worst = Volatility(IMMUTABLE)
    if not expression:
        return worst
    for node_type, body in nodes.walk(expression):
        if node_type == "FuncCall":
            parts = nodes.names(body.get("funcname"))
            found = Volatility(function_volatility(parts, catalog), f"{'.'.join(parts)}()", body.get("location", -1))
        elif node_type == "SQLValueFunction":  # CURRENT_TIMESTAMP, CURRENT_USER, ...
            found = Volatility(STABLE, None, body.get("location", -1))
        else:
            continue
        if _RANK[found.level] > _RANK[worst.level]:
            worst = found
    return worst

"""Rule discovery. Each rule is one module in this package named
`mscNNN_<name>.py`. A module declares its metadata as constants, carries its
documentation as the module docstring, and defines at most one check function;
which one says when the engine calls it:

- `check_statement(statement, ctx)`: every statement of a type in `NODE_TYPES`
  ("*" for all), with the catalog as it stood before the statement;
- `check_file(ctx)`: once per migration file;
- `check_migrations(ctx)`: once per migrations directory;
- `check_rollback(ctx)`: once per forward migration that has a rollback file;
- `check_history(ctx)`: once per directory, with the catalog at the end;
- `check_text(ctx)`: once per non-migration text file.

A rule without a check function is reported by the engine itself (parse
errors, unreadable files, suppressions).

Extra rules (a seam for tests, e.g. a rule that raises to prove crash
isolation): the environment variable MOBIUS_SQLCHECK_EXTRA_RULES names
importable packages, comma-separated, whose `mscNNN_<name>.py` modules are
discovered as rules too. It is read once per process (`all_rules` is cached:
call `all_rules.cache_clear()` after changing it).
"""

from __future__ import annotations

import importlib
import os
import re
from functools import lru_cache
from types import ModuleType
from typing import Callable, NamedTuple

from mobius_sqlcheck.errors import UsageError

SCOPES = ("statement", "file", "migrations", "rollback", "history", "text")
EXTRA_RULES_ENV = "MOBIUS_SQLCHECK_EXTRA_RULES"
_MODULE_NAME = re.compile(r"^msc\d{3}_\w+$")


class Rule(NamedTuple):
    code: str
    name: str
    severity: str  # default: "error", "warning" or "off"
    summary: str  # the docstring's first line
    docs: str
    scope: str  # one of SCOPES, or "engine"
    check: Callable | None
    node_types: tuple[str, ...] = ()
    default_hint: str | None = None
    options: dict[str, object] = {}


def _rule_from_module(module: ModuleType) -> Rule:
    scope, check = "engine", None
    for candidate in SCOPES:
        function = getattr(module, f"check_{candidate}", None)
        if function is not None:
            scope, check = candidate, function
            break
    return Rule(
        code=module.CODE,
        name=module.NAME,
        severity=module.SEVERITY,
        summary=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else "",
        docs=(module.__doc__ or "").strip(),
        scope=scope,
        check=check,
        node_types=tuple(getattr(module, "NODE_TYPES", ())),
        default_hint=getattr(module, "HINT", None),
        options=dict(getattr(module, "OPTIONS", {})),
    )


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every rule, by code, in code order."""
    rules = []
    for package, path in [(__name__, __path__), *_extra_packages()]:
        for module_name in _rule_module_names(path):
            rules.append(_rule_from_module(importlib.import_module(f"{package}.{module_name}")))
    rules.sort(key=lambda rule: rule.code)
    by_code = {rule.code: rule for rule in rules}
    if len(by_code) != len(rules):
        raise UsageError(f"{EXTRA_RULES_ENV}: a rule code is defined twice")
    return by_code


def _extra_packages() -> list[tuple[str, list[str]]]:
    packages = []
    for name in filter(None, (part.strip() for part in os.environ.get(EXTRA_RULES_ENV, "").split(","))):
        try:
            packages.append((name, list(importlib.import_module(name).__path__)))
        except (ImportError, AttributeError) as error:
            raise UsageError(f"{EXTRA_RULES_ENV}: cannot import rule package {name!r}: {error}") from None
    return packages


def _rule_module_names(path: list[str]) -> list[str]:
    names = set()
    for directory in path:
        for filename in os.listdir(directory):
            stem, _, suffix = filename.partition(".")
            if suffix == "py" and _MODULE_NAME.match(stem):
                names.add(stem)
    return sorted(names)


def expand_selectors(selectors: list[str], key: str) -> set[str]:
    """Rule codes matched by selectors: a full code (MSC301), a family
    prefix (MSC3), or ALL."""
    codes = all_rules().keys()
    chosen: set[str] = set()
    for selector in selectors:
        normalized = selector.strip().upper()
        if normalized == "ALL":
            chosen.update(codes)
            continue
        matched = {code for code in codes if code.startswith(normalized)} if normalized else set()
        if not matched:
            raise UsageError(f"{key}: unknown rule {selector!r} (see `mobius-sqlcheck rules`)")
        chosen.update(matched)
    return chosen

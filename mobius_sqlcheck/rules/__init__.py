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

A statement or file rule that reads neither `ctx.catalog` nor what the
replay recorded (`tables_created_in_file`, `is_existing_table`) may say so
with `CATALOG_FREE = True`: on a long history it then runs in a worker
process, beside the replay (`mobius_sqlcheck.lint.workers`). Without it, a
rule runs in the main process, where the catalog is.

The registry (code -> Rule) a run uses is a parameter of the lint
pipeline: `all_rules()` is the built-in one; `load_rules(packages)` adds the
`mscNNN_<name>.py` modules of other importable packages (a seam for tests,
e.g. a rule that raises to prove crash isolation). Both are cached by their
arguments only. The command line adds the packages named, comma-separated,
by the environment variable MOBIUS_SQLCHECK_EXTRA_RULES, read on every
invocation (`registry_from_environment`); the library never reads it.
"""

from __future__ import annotations

import importlib
import os
import re
from functools import lru_cache
from types import ModuleType
from collections.abc import Iterable, Mapping
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
    catalog_free: bool = False  # may run in a worker process (see the module docstring)


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
        catalog_free=bool(getattr(module, "CATALOG_FREE", False)),
    )


Registry = Mapping[str, Rule]


def all_rules() -> dict[str, Rule]:
    """Every built-in rule, by code, in code order."""
    return load_rules(())


@lru_cache(maxsize=8)
def load_rules(extra_packages: tuple[str, ...]) -> dict[str, Rule]:
    """The built-in rules and those of `extra_packages`, by code, in code order."""
    rules = []
    for package, path in [(__name__, list(__path__)), *_import_packages(extra_packages)]:
        for module_name in _rule_module_names(path):
            rules.append(_rule_from_module(importlib.import_module(f"{package}.{module_name}")))
    rules.sort(key=lambda rule: rule.code)
    by_code = {rule.code: rule for rule in rules}
    if len(by_code) != len(rules):
        raise UsageError(f"{EXTRA_RULES_ENV}: a rule code is defined twice")
    return by_code


def registry_from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, Rule]:
    """The command line's registry: built-ins plus MOBIUS_SQLCHECK_EXTRA_RULES."""
    return load_rules(tuple(filter(None, (part.strip() for part in environ.get(EXTRA_RULES_ENV, "").split(",")))))


def _import_packages(names: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    packages = []
    for name in names:
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


def expand_selectors(selectors: Iterable[str], key: str, rules: Registry | None = None) -> set[str]:
    """Rule codes matched by selectors: a full code (MSC301), a family
    prefix (MSC3), or ALL."""
    codes = (all_rules() if rules is None else rules).keys()
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

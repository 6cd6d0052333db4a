"""The rules a run uses: the registry narrowed by select/ignore, with each
rule's severity (the config's severity keys expanded like select/ignore), by
scope and statement type."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping

from mobius_sqlcheck.config import Config
from mobius_sqlcheck.rules import Registry, Rule, expand_selectors

INTERNAL_ERROR = "MSC004"


class ActiveRules:
    """The rules this run uses (after select/ignore/severity), by scope."""

    def __init__(self, config: Config, rules: Registry) -> None:
        self.all = rules
        selected = expand_selectors(config.select, "select", rules) if config.select else None
        # Off-by-default rules are switched on by their exact code, not by a prefix.
        named = {selector.strip().upper() for selector in config.select}
        ignored = expand_selectors(config.ignore, "ignore", rules)
        chosen = severity_by_code(config.severity, rules)
        self.severity: dict[str, str] = {}
        for code, rule in rules.items():
            level = chosen.get(code)
            if level is None:
                level = rule.severity
                if selected is not None:
                    if code not in selected:
                        level = "off"
                    elif level == "off" and code in named:
                        level = "warning"
            if code in ignored:
                level = "off"
            self.severity[code] = level
        # A rule that crashed checked nothing: that is never silenced.
        if INTERNAL_ERROR in rules:
            self.severity[INTERNAL_ERROR] = "error"
        self.enabled = {code: rule for code, rule in rules.items() if self.severity[code] != "off"}
        self.by_scope: dict[str, list[Rule]] = {}
        for rule in self.enabled.values():
            self.by_scope.setdefault(rule.scope, []).append(rule)
        self.by_node_type: dict[str, list[Rule]] = {}
        for rule in self.by_scope.get("statement", ()):
            for node_type in rule.node_types:
                self.by_node_type.setdefault(node_type, []).append(rule)
        self.for_every_statement = self.by_node_type.pop("*", [])
        self._merged: dict[tuple[str, bool | None], list[Rule]] = {}
        self.per_file = PerFileIgnores(config, rules)

    def statement_rules(self, node_type: str, catalog_free: bool | None = None) -> list[Rule]:
        """The rules for a statement type: all, or (with `catalog_free`) only
        those that run beside the replay (True) or only the others (False)."""
        rules = self._merged.get((node_type, catalog_free))
        if rules is None:  # once per statement type, not once per statement
            rules = self.by_node_type.get(node_type, []) + self.for_every_statement
            if catalog_free is not None:
                rules = [rule for rule in rules if rule.catalog_free == catalog_free]
            self._merged[(node_type, catalog_free)] = rules
        return rules

    def is_on(self, code: str) -> bool:
        return code in self.enabled


def severity_by_code(severity: Mapping[str, str], rules: Registry) -> dict[str, str]:
    """The `severity` table with its keys expanded like select/ignore: a
    prefix (MSC6) sets every rule it matches; a longer key (MSC602) wins."""
    by_code: dict[str, str] = {}
    for key in sorted(severity, key=lambda selector: (selector.strip().upper() != "ALL", len(selector.strip()))):
        for code in expand_selectors([key], f"severity.{key}", rules):
            by_code[code] = severity[key]
    return by_code


class PerFileIgnores:
    """`per_file_ignores`: rules switched off for the files a glob matches.
    A glob is matched against the path relative to the config file's
    directory and against the file name, so `005_*.sql` and
    `migrations/005_*.sql` both work. It is the way to exempt a migration
    that is already applied: a suppression comment would change its bytes,
    and with them its checksum in the lock file and in the database."""

    def __init__(self, config: Config, rules: Registry) -> None:
        self.base = os.path.dirname(os.path.abspath(config.source)) if config.source else os.getcwd()
        self.globs = [(glob, expand_selectors(codes, f"per_file_ignores.{glob}", rules) - {INTERNAL_ERROR})
                      for glob, codes in config.per_file_ignores.items()]
        self._by_path: dict[str, set[str]] = {}

    def codes_for(self, path: str) -> set[str]:
        codes = self._by_path.get(path)
        if codes is None:
            relative = os.path.relpath(os.path.abspath(path), self.base).replace(os.sep, "/")
            name = os.path.basename(path)
            codes = self._by_path[path] = {
                code for glob, ignored in self.globs
                if fnmatch.fnmatchcase(relative, glob) or fnmatch.fnmatchcase(name, glob) for code in ignored
            }
        return codes

"""Inline suppressions applied to a run's findings, in one pure step: which
findings stay, and the MSC009 findings for suppression comments that name
no rule, an unknown rule, or suppressed nothing. Nothing is marked on the
suppressions themselves, so the result does not depend on call order."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from mobius_sqlcheck.lint.findings import RawFinding
from mobius_sqlcheck.lint.selection import INTERNAL_ERROR
from mobius_sqlcheck.rules import Rule
from mobius_sqlcheck.suppressions import Suppression

UNUSED_SUPPRESSION = "MSC009"


def resolve(findings: Sequence[RawFinding], suppressions: Mapping[str, Sequence[Suppression]],
            reported: Collection[str], unused_rule: Rule | None, known: Collection[str],
            enabled: Collection[str]) -> list[RawFinding]:
    """The findings to show: those on reported files that no comment
    suppresses (an internal error always), then the unused-suppression ones."""
    used: set[tuple[str, int, str]] = set()  # (path, comment offset, code) that suppressed something

    def suppressed(finding: RawFinding) -> bool:
        hit = False
        for suppression in suppressions.get(finding.path, ()):
            if suppression.covers(finding.rule.code, finding.start):
                used.add((finding.path, suppression.offset, finding.rule.code))
                hit = True
        return hit

    # An internal error is always shown, even where a directory-wide rule
    # failed (its path is the directory) or on a file given only as context.
    kept = [finding for finding in findings
            if finding.rule.code == INTERNAL_ERROR or (finding.path in reported and not suppressed(finding))]
    if unused_rule is None:
        return kept
    unused = _unused(suppressions, reported, unused_rule, known, enabled, used)
    return kept + [finding for finding in unused if not suppressed(finding)]


def _unused(suppressions: Mapping[str, Sequence[Suppression]], reported: Collection[str], rule: Rule,
            known: Collection[str], enabled: Collection[str], used: set[tuple[str, int, str]]) -> list[RawFinding]:
    found = []
    for path, comments in suppressions.items():
        if path not in reported:
            continue
        for suppression in comments:
            if not suppression.codes:
                found.append(RawFinding(rule, path, suppression.offset, None, "suppression comment names no rule",
                                        rule.default_hint))
            for code in suppression.codes:
                if code not in known:
                    message = f"suppression names unknown rule {code}"
                elif (path, suppression.offset, code) not in used and code in enabled:
                    message = f"suppression of {code} suppressed nothing"
                else:
                    continue
                found.append(RawFinding(rule, path, suppression.offset, None, message, rule.default_hint))
    return found

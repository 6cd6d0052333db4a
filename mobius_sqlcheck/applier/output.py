"""Progress lines for people, one JSON document for machines.

Text: one line per migration as soon as it is done, with its time, flushed so
a CI log shows progress live. JSON (`--format json`): nothing until the end,
then one object on stdout:
`{"version", "command", "database", "ok", "migrations": [...], "notes": [...], "error"}`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import IO, Any

from mobius_sqlcheck import __version__

FORMATS = ("text", "json")


@dataclass
class Reporter:
    command: str
    format: str = "text"
    stream: IO[str] = field(default_factory=lambda: sys.stdout)
    database: str | None = None
    migrations: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_json(self) -> bool:
        return self.format == "json"

    def note(self, text: str) -> None:
        """A line of context (target database, waits, warnings)."""
        self.notes.append(text)
        if not self.is_json:
            self._print(text)

    def migration(self, action: str, file: str, version: str, name: str,
                  ms: float | None = None, detail: str = "") -> None:
        """One migration done (or planned): `action` is e.g. applied, skipped, pending."""
        entry: dict[str, Any] = {"action": action, "file": file, "version": version, "name": name}
        if ms is not None:
            entry["ms"] = round(ms, 1)
        if detail:
            entry["detail"] = detail
        self.migrations.append(entry)
        if not self.is_json:
            timing = f"  ({format_ms(ms)})" if ms is not None else ""
            suffix = f"  {detail}" if detail else ""
            self._print(f"{action:<12} {file}{timing}{suffix}")

    def finish(self, ok: bool, error: dict[str, Any] | None = None) -> None:
        if self.is_json:
            document = {
                "version": __version__, "command": self.command, "database": self.database, "ok": ok,
                "migrations": self.migrations, "notes": self.notes, "error": error, **self.extra,
            }
            json.dump(document, self.stream, indent=2, default=str)
            self.stream.write("\n")
            self.stream.flush()

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def format_ms(ms: float | None) -> str:
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.2f} s"

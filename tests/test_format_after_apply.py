"""`format` after a real `apply`: before, it rewrote the applied (and locked)
migrations, so `status` showed them modified and the next `apply` refused
them (checksum differs). Against the real PostgreSQL + PgBouncer of
tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobius_sqlcheck.cli import main
from tests.applier.helpers import Db

UNFORMATTED = "create   table public.notes (id bigint primary key, body text);\n"
ROLLBACK = "drop   table if exists public.notes;\n"


def test_format_after_apply_keeps_status_clean_and_apply_working(db: Db, tmp_path: Path, capsys,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOBIUS_SQLCHECK_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "pyproject.toml").write_text("[tool.mobius_sqlcheck]\n", encoding="utf-8")
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_notes.sql").write_text(UNFORMATTED, encoding="utf-8")
    (migrations / "001_notes_rollback.sql").write_text(ROLLBACK, encoding="utf-8")
    base = ["--database-url", db.url, "--migrations", "migrations"]
    assert main(["lock"]) == 0
    assert main(["apply", "--skip-lint", *base]) == 0
    capsys.readouterr()

    assert main(["format"]) == 0
    assert "left as is: locked" in capsys.readouterr().out
    assert (migrations / "001_notes.sql").read_text(encoding="utf-8") == UNFORMATTED
    assert main(["status", *base]) == 0, capsys.readouterr()
    (migrations / "002_more.sql").write_text("alter table public.notes add column title text;\n", encoding="utf-8")
    (migrations / "002_more_rollback.sql").write_text("alter table public.notes drop column title;\n",
                                                      encoding="utf-8")
    assert main(["apply", "--skip-lint", *base]) == 0, capsys.readouterr()
    assert db.history() and len(db.history()) == 2

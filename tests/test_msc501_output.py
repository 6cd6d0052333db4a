"""MSC501 end to end: a password in a scanned file never reaches any output
format, while the finding itself (position, redacted string) does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mobius_sqlcheck.config import config_from_table
from mobius_sqlcheck.lint import lint_paths
from mobius_sqlcheck.reporters import FORMATS, renderer

PASSWORDS = ("S3cret-Pass", "p@ss:w0rd", "hunter2", "QuerySecret", "with space")

ENV_FILE = """\
DATABASE_URL=postgresql://postgres:S3cret-Pass@db.abcdefghij.supabase.co:5432/postgres
ENCODED_URL=postgres://app:p%40ss%3Aw0rd@db.internal/mobius
LEGACY_DSN=host=db.internal port=5432 user=app password=hunter2 dbname=mobius
QUOTED_DSN='host=db.internal port=5432 user=app password=\\'with space\\' dbname=mobius'
QUERY_URL=postgresql://app@db.internal:5432/mobius?password=QuerySecret
"""


@pytest.fixture
def env_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / ".env.production").write_text(ENV_FILE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return ".env.production"


@pytest.mark.parametrize("output_format", FORMATS)
def test_no_password_in_any_format(env_path: str, output_format: str) -> None:
    result = lint_paths([env_path], config_from_table({"select": ["MSC501"]}))
    assert [d.line for d in result.diagnostics] == [1, 2, 3, 4, 5]
    output = renderer(output_format)(result, colour=False)
    for password in PASSWORDS + ("p%40ss%3Aw0rd",):
        assert password not in output
    assert "***" in output


def test_json_output_carries_the_redacted_string(env_path: str) -> None:
    result = lint_paths([env_path], config_from_table({"select": ["MSC501"]}))
    document = json.loads(renderer("json")(result, colour=False))
    first = document["diagnostics"][0]
    assert (first["path"], first["line"], first["column"], first["rule"]) == (env_path, 1, 14, "MSC501")
    assert "postgresql://postgres:***@db.abcdefghij.supabase.co:5432/postgres" in first["message"]
    assert document["summary"]["errors"] == 5

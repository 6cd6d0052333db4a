"""Every rule's pass/fail cases, from the data files in tests/rule_cases/.

Each `<code>.toml` holds `[[case]]` tables:

    [[case]]
    name = "NOT NULL without default on a table from an earlier file"
    files."001_init.sql" = "CREATE TABLE brands (brand_id uuid);"
    files."002_add.sql" = "ALTER TABLE brands ADD COLUMN x int NOT NULL;"
    expect = ["002_add.sql:1:24 MSC301"]

The files are written to a temporary `migrations/` directory and linted with
only the file's rule selected (override with `select = [...]`); `lint` names
the files to lint (default: the whole directory) and `config` adds
[tool.mobius_sqlcheck] keys. `expect` lists every diagnostic as
`file:line:column CODE`, in output order; an empty list is a passing case.
Raw bytes (invalid UTF-8, binary) go in `files_hex`; `crlf` and `bom` rewrite
every file with CRLF line ends or a UTF-8 byte-order mark.
A value of `expect_messages` checks substrings of the messages in order.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from mobius_sqlcheck.config import config_from_table
from mobius_sqlcheck.lint import lint_paths

CASES_DIR = Path(__file__).parent / "rule_cases"


def _load_cases() -> list:
    params = []
    for data_file in sorted(CASES_DIR.glob("*.toml")):
        document = tomllib.loads(data_file.read_text(encoding="utf-8"))
        for number, case in enumerate(document.get("case", []), 1):
            case_id = f"{data_file.stem}-{number}-{case.get('name', '')[:40]}"
            params.append(pytest.param(data_file.stem.upper(), case, id=case_id))
    return params


@pytest.mark.parametrize(("code", "case"), _load_cases())
def test_rule_case(code: str, case: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / case.get("directory", "migrations")
    directory.mkdir(parents=True)
    files = {name: content.encode("utf-8") for name, content in case.get("files", {}).items()}
    files.update({name: bytes.fromhex(content) for name, content in case.get("files_hex", {}).items()})
    for name, data in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if case.get("crlf"):
            data = data.replace(b"\n", b"\r\n")
        if case.get("bom"):
            data = b"\xef\xbb\xbf" + data
        target.write_bytes(data)
    table = {"select": case.get("select", [code]), **case.get("config", {})}
    config = config_from_table(table)
    monkeypatch.chdir(directory)
    paths = case.get("lint", ["."])
    result = lint_paths(paths, config)
    got = [f"{os.path.normpath(d.path)}:{d.line}:{d.column} {d.rule}" for d in result.diagnostics]
    assert got == case["expect"], "\n".join(f"{d.path}:{d.line}:{d.column} {d.rule} {d.message}"
                                            for d in result.diagnostics)
    messages = case.get("expect_messages", [])
    assert len(messages) <= len(result.diagnostics), "more expected messages than diagnostics"
    for message, diagnostic in zip(messages, result.diagnostics[:len(messages)], strict=True):
        assert message in diagnostic.message

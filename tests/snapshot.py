"""A throwaway commit of this repository for tests that install it as users
do (pre-commit, the GitHub Action): HEAD plus the uncommitted changes to
tracked files, as `pre-commit try-repo` takes it. Installing from a copy
keeps build artefacts out of the working tree other people are editing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
                           "-c", "commit.gpgsign=false", *args], cwd=cwd, capture_output=True, text=True)


def snapshot_repo(target: Path) -> str:
    """Clone REPO into `target` with its uncommitted changes; returns the commit."""
    assert git(REPO.parent, "clone", "-q", str(REPO), str(target)).returncode == 0
    for name in git(REPO, "diff", "--name-only", "HEAD").stdout.split():
        source, copy = REPO / name, target / name
        if source.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
        elif copy.exists():
            copy.unlink()
    git(target, "add", "-A")
    assert git(target, "commit", "-q", "--allow-empty", "--no-verify", "-m", "snapshot").returncode == 0
    return git(target, "rev-parse", "HEAD").stdout.strip()

"""The published pre-commit hooks, driven by the real `pre-commit` from
temporary git repositories that have their own migrations.

Each project installs the hooks from a snapshot of this repository (HEAD plus
uncommitted changes to tracked files, as `pre-commit try-repo` takes it) at
one fixed commit, and every project shares one PRE_COMMIT_HOME: the hook
environment (a virtualenv with this package and its dependencies, from PyPI)
is built once per session. (`try-repo` itself would rebuild it on every call:
it uses a fresh store each time.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.snapshot import REPO, snapshot_repo
from tests.snapshot import git as _git

GOOD_MIGRATION = "CREATE TABLE brands (\n    brand_id uuid PRIMARY KEY,\n    name text NOT NULL\n);\n"
GOOD_ROLLBACK = "DROP TABLE IF EXISTS brands;\n"
BAD_MIGRATION = "CREATE TABLE brands (brand_id uuid PRIMARY KEY,);\n"


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    shadow = tmp_path_factory.mktemp("hooks") / "mobius-sqlcheck"
    return shadow, snapshot_repo(shadow)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


class Project:
    """A git repository with the hooks installed as a user would."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def commit(self, *names: str) -> subprocess.CompletedProcess:
        _git(self.root, "add", *names)
        return _run("git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c",
                    "commit.gpgsign=false", "commit", "-m", "change", cwd=self.root, env=self.env)

    def committed(self, name: str) -> bool:
        return _git(self.root, "cat-file", "-e", f"HEAD:{name}").returncode == 0

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return _run(*args, cwd=self.root, env=self.env)


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path: Path, hooks_repo: tuple[Path, str],
            pre_commit_home: Path) -> Project:
    """Parametrized indirectly with the hook ids to install."""
    repo, rev = hooks_repo
    hooks = [{"id": hook} for hook in request.param]
    config = {"repos": [{"repo": str(repo), "rev": rev, "hooks": hooks}]}
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home), "GIT_CONFIG_NOSYSTEM": "1"}
    env.pop("MOBIUS_SQLCHECK_CACHE_DIR", None)  # the default, in the project, must keep git clean
    root = tmp_path / "project"
    root.mkdir()
    assert _git(root, "init", "-q").returncode == 0
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    _git(root, "add", ".pre-commit-config.yaml")
    _git(root, "commit", "-q", "--no-verify", "-m", "pre-commit config")
    installed = _run(sys.executable, "-m", "pre_commit", "install", cwd=root, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return Project(root, env)


def _output(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


@pytest.mark.parametrize("project", [["mobius-sqlcheck"]], indirect=True)
def test_lint_hook_blocks_a_bad_migration_and_passes_a_good_one(project: Project) -> None:
    project.write("migrations/001_create_brands.sql", BAD_MIGRATION)
    project.write("migrations/001_create_brands_rollback.sql", GOOD_ROLLBACK)
    blocked = project.commit("migrations")
    assert blocked.returncode != 0, _output(blocked)
    assert "MSC001" in _output(blocked)
    assert not project.committed("migrations/001_create_brands.sql")

    project.write("migrations/001_create_brands.sql", GOOD_MIGRATION)
    passed = project.commit("migrations")
    assert passed.returncode == 0, _output(passed)
    assert project.committed("migrations/001_create_brands.sql")


@pytest.mark.parametrize("project", [["mobius-sqlcheck"]], indirect=True)
def test_lint_hook_blocks_an_edit_to_a_locked_migration(project: Project) -> None:
    project.write("migrations/001_create_brands.sql", GOOD_MIGRATION)
    project.write("migrations/001_create_brands_rollback.sql", GOOD_ROLLBACK)
    locked = project.run(sys.executable, "-m", "mobius_sqlcheck", "lock")
    assert locked.returncode == 0, _output(locked)
    assert project.commit("migrations").returncode == 0

    project.write("migrations/001_create_brands.sql", GOOD_MIGRATION.replace("name text", "title text"))
    blocked = project.commit("migrations")
    assert blocked.returncode != 0
    assert "MSC105" in _output(blocked)


@pytest.mark.parametrize("project", [["mobius-sqlcheck-format"]], indirect=True)
def test_format_hook_rewrites_fails_once_then_passes(project: Project) -> None:
    target = project.write("queries/report.sql", "select   a,b from T;\n")
    fixed = project.commit("queries")
    assert fixed.returncode != 0
    assert "files were modified by this hook" in _output(fixed)
    assert target.read_text() == "select\n    a,\n    b\nfrom t;\n"
    passed = project.commit("queries")
    assert passed.returncode == 0, _output(passed)
    assert _git(project.root, "status", "--porcelain").stdout == ""  # the cache ignores itself


@pytest.mark.parametrize("project", [["mobius-sqlcheck-connections"]], indirect=True)
def test_connections_hook_blocks_a_direct_connection(project: Project) -> None:
    project.write("app/settings.env", "DATABASE_URL=postgresql://postgres:s3cret@db.abcdefghij.supabase.co:5432/postgres\n")
    blocked = project.commit("app")
    assert blocked.returncode != 0
    assert "MSC501" in _output(blocked)
    assert "s3cret" not in _output(blocked)
    project.write("app/settings.env", "DATABASE_URL=postgresql://postgres.abcdefghij:***@aws-0-eu-central-1"
                                      ".pooler.supabase.com:6543/postgres\n")
    passed = project.commit("app")
    assert passed.returncode == 0, _output(passed)


def _readme_snippet() -> str:
    """The README's .pre-commit-config.yaml, as a user copies it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split("```yaml\n# .pre-commit-config.yaml\n", 1)[1].split("```", 1)[0]


def _readme_hook_ids() -> list[str]:
    return [hook["id"] for repo in yaml.safe_load(_readme_snippet())["repos"] for hook in repo["hooks"]]


@pytest.mark.parametrize("project", [_readme_hook_ids()], indirect=True)
def test_readme_hooks_pass_twice_on_a_locked_repository(project: Project, hooks_repo: tuple[Path, str]) -> None:
    """The README's snippet, its `repo` and `rev` filled in as it says (a
    clone and a full commit hash), resolves with the real pre-commit. Then
    `lock` and `pre-commit run --all-files`, twice: the format hook must not
    rewrite a locked migration (the lint hook would then report MSC105, and
    an applied migration would no longer match its checksum)."""
    snippet = _readme_snippet()
    assert "rev: <commit>" in snippet and "v0.1.0" not in snippet
    repo, rev = hooks_repo
    config = re.sub(r"repo: \S+", f"repo: {repo}", snippet, count=1).replace("rev: <commit>", f"rev: {rev}")
    project.write(".pre-commit-config.yaml", config)
    unformatted = "create   table brands (brand_id uuid primary key, name text not null);\n"
    project.write("migrations/001_create_brands.sql", unformatted)
    project.write("migrations/001_create_brands_rollback.sql", "drop   table if exists brands;\n")
    locked = project.run(sys.executable, "-m", "mobius_sqlcheck", "lock")
    assert locked.returncode == 0, _output(locked)
    _git(project.root, "add", "-A")
    for attempt in (1, 2):
        done = project.run(sys.executable, "-m", "pre_commit", "run", "--all-files")
        assert done.returncode == 0, f"run {attempt}:\n{_output(done)}"
        assert _output(done).count("Passed") == 3, _output(done)
    assert (project.root / "migrations/001_create_brands.sql").read_text() == unformatted
    # What is not locked is still formatted.
    project.write("migrations/002_add_logo.sql", "alter   table brands add column logo text;\n")
    project.write("migrations/002_add_logo_rollback.sql", "alter table brands drop column logo;\n")
    _git(project.root, "add", "-A")
    fixed = project.run(sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert fixed.returncode != 0 and "files were modified by this hook" in _output(fixed)
    assert (project.root / "migrations/002_add_logo.sql").read_text() != "alter   table brands add column logo text;\n"


@pytest.mark.parametrize("project", [["mobius-sqlcheck-connections"]], indirect=True)
def test_connections_hook_prints_one_summary_per_run(project: Project) -> None:
    """Without require_serial, pre-commit splits many files into one batch
    per core, and each batch prints its own summary."""
    for number in range(40):
        project.write(f"app/settings_{number:02d}.env", f"DATABASE_URL=postgresql://app:pw@db{number}.internal:5432/app\n")
    _git(project.root, "add", "-A")
    done = project.run(sys.executable, "-m", "pre_commit", "run", "--all-files", "--verbose")
    assert done.returncode != 0
    summaries = re.findall(r"\d+ files checked", _output(done))
    assert summaries == ["41 files checked"], _output(done)  # 40 files and the pre-commit config


# -- the manifest and this repository's own config ------------------------------------------


def _yaml(name: str) -> object:
    return yaml.safe_load((REPO / name).read_text())


def test_manifest_and_config_are_valid() -> None:
    for command, name in (("validate-manifest", ".pre-commit-hooks.yaml"), ("validate-config", ".pre-commit-config.yaml")):
        done = _run(sys.executable, "-m", "pre_commit", command, name, cwd=REPO)
        assert done.returncode == 0, _output(done)


def test_this_repository_passes_its_own_hooks(hooks_repo: tuple[Path, str], pre_commit_home: Path) -> None:
    # In the snapshot, not the working tree: `pre-commit run` stashes unstaged changes while it runs.
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home)}
    done = _run(sys.executable, "-m", "pre_commit", "run", "--all-files", cwd=hooks_repo[0], env=env)
    assert done.returncode == 0, _output(done)


def test_own_config_mirrors_the_published_hooks() -> None:
    published = {hook["id"]: hook for hook in _yaml(".pre-commit-hooks.yaml")}
    local = {hook["id"]: hook for hook in _yaml(".pre-commit-config.yaml")["repos"][0]["hooks"]}
    assert local.keys() == published.keys()
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for hook_id, hook in published.items():
        mine = local[hook_id]
        assert mine["entry"] == hook["entry"].replace("mobius-sqlcheck", "python -m mobius_sqlcheck", 1)
        for key in ("files", "types", "require_serial", "language"):
            assert mine.get(key) == hook.get(key), (hook_id, key)
        assert mine["additional_dependencies"] == dependencies

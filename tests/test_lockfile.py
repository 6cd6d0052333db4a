"""The lock file format and `mobius-sqlcheck lock` (the lock rules' cases are
in tests/rule_cases/msc104.toml ... msc109.toml)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mobius_sqlcheck import lockfile
from mobius_sqlcheck.cli import main
from mobius_sqlcheck.migrations import load_migration_set

SQL = "SELECT 1;\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "migrations").mkdir()
    for name in ("001_init.sql", "001_init_rollback.sql", "002_add.sql"):
        (tmp_path / "migrations" / name).write_text(SQL)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lock_text(project: Path) -> str:
    return (project / "migrations" / "sqlcheck.sum").read_text()


def test_lock_writes_one_line_per_file_in_apply_order(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["lock"]) == 0
    lines = lock_text(project).splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["001_init.sql", "001_init_rollback.sql", "002_add.sql"]
    assert lines[0] == lockfile.entries_sum(lockfile.parse(lock_text(project)).entries)
    assert main(["lock"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_render_parse_round_trip(project: Path) -> None:
    lock = lockfile.build(load_migration_set("migrations"))
    assert lockfile.parse(lockfile.render(lock)) == lock
    assert lockfile.parse(lockfile.render(lock).replace("\n", "\r\n")) == lock


def test_appending_a_migration_needs_no_force(project: Path) -> None:
    main(["lock"])
    (project / "migrations" / "003_more.sql").write_text(SQL)
    assert main(["lock"]) == 0
    assert "003_more.sql h1:" in lock_text(project)


@pytest.mark.parametrize("change", ["edit", "insert", "delete"])
def test_unsafe_relock_needs_force(project: Path, change: str, capsys: pytest.CaptureFixture) -> None:
    main(["lock"])
    (project / "migrations" / "003_more.sql").write_text(SQL)
    main(["lock"])
    before = lock_text(project)
    if change == "edit":
        (project / "migrations" / "001_init.sql").write_text("SELECT 2;\n")
    elif change == "insert":
        (project / "migrations" / "002_a_first.sql").write_text(SQL)
    else:
        (project / "migrations" / "002_add.sql").unlink()
    assert main(["lock"]) == 1
    assert lock_text(project) == before
    assert "--force" in capsys.readouterr().err
    assert main(["lock", "--force"]) == 0
    assert lock_text(project) != before


def test_lock_refuses_a_conflicted_lock_file(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "migrations" / "sqlcheck.sum").write_text("<<<<<<< HEAD\nh1:x\n=======\nh1:y\n>>>>>>> b\n")
    assert main(["lock"]) == 1
    assert "sqlcheck.sum:1: unresolved merge conflict" in capsys.readouterr().err
    assert main(["lock", "--force"]) == 0


def test_lock_of_a_missing_directory_is_a_usage_error(project: Path) -> None:
    assert main(["lock", "nowhere"]) == 2


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          cwd=cwd, capture_output=True, text=True)


def test_two_branches_that_each_add_a_migration_conflict_in_git(project: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    _git(project, "init", "-q", "-b", "main")
    main(["lock"])
    _git(project, "add", "migrations")
    _git(project, "commit", "-qm", "base")
    for branch, name in (("a", "003_from_a.sql"), ("b", "003_from_b.sql")):
        _git(project, "checkout", "-qb", branch, "main")
        (project / "migrations" / name).write_text(SQL)
        main(["lock"])
        _git(project, "add", "migrations")
        _git(project, "commit", "-qm", branch)
    merge = _git(project, "merge", "a")
    assert merge.returncode != 0
    assert "CONFLICT (content): Merge conflict in migrations/sqlcheck.sum" in merge.stdout
    capsys.readouterr()
    assert main(["lint", "--select", "MSC104,MSC105,MSC107,MSC109"]) == 1
    assert "MSC109" in capsys.readouterr().out


def test_the_lock_rules_hash_the_bytes_the_run_read(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MSC105 compares the sums of the bytes the replay read: no locked file is read a second time."""
    from mobius_sqlcheck.config import Config
    from mobius_sqlcheck.lint import lint_paths

    assert main(["lock", str(project / "migrations")]) == 0
    edited = sorted((project / "migrations").glob("*.sql"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    reads: list[str] = []
    read_file_bytes = lockfile.read_file_bytes

    def counted(path: str) -> bytes:
        reads.append(path)
        return read_file_bytes(path)

    monkeypatch.setattr(lockfile, "read_file_bytes", counted)
    result = lint_paths([str(project / "migrations")], Config())
    assert [d.path for d in result.diagnostics if d.rule == "MSC105"] == [str(edited)]
    assert reads == []


def test_file_sums_are_of_the_bytes_recorded(tmp_path: Path) -> None:
    path = tmp_path / "001_a.sql"
    path.write_bytes(b"SELECT 1;\r\n")
    sums = lockfile.FileSums()
    assert sums.of(str(path)) == lockfile.content_sum(b"SELECT 1;\n")  # from the disk: CRLF read as LF
    sums.record(str(path), b"\xef\xbb\xbfSELECT 2;\n")
    assert sums.of(str(path)) == lockfile.content_sum(b"SELECT 2;\n")  # what was read, not the disk

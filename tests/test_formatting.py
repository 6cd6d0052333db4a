"""sqlfluff formatting: the `format` command, `lint --format-check`, the result
cache, the process pool, and that the plain lint never imports sqlfluff.
(MSC005's positions and messages are cases in tests/rule_cases/msc005.toml.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mobius_sqlcheck.cli import main
from mobius_sqlcheck.formatting import Settings, check_texts, runner, worker

REPO = Path(__file__).resolve().parent.parent
BAD = "select   a,b from T;\n"
GOOD = "SELECT a FROM t;\n"


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("MOBIUS_SQLCHECK_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "migrations").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def migration(project: Path, text: str) -> None:
    """migrations/001_a.sql and its rollback (other rules want one)."""
    (project / "migrations" / "001_a.sql").write_text(text)
    (project / "migrations" / "001_a_rollback.sql").write_text(GOOD)


def no_sqlfluff(task: tuple) -> dict:
    raise AssertionError(f"sqlfluff ran on {task[0]}")


# -- format ---------------------------------------------------------------------


def test_format_fixes_then_passes(project: Path, capsys: pytest.CaptureFixture) -> None:
    target = project / "migrations" / "001_a.sql"
    target.write_text(BAD)
    assert main(["format", "--check"]) == 1
    assert target.read_text() == BAD
    assert main(["format"]) == 1
    assert "fixed migrations/001_a.sql" in capsys.readouterr().out
    assert target.read_text() == "select\n    a,\n    b\nfrom t;\n"
    assert main(["format"]) == 0


def test_format_leaves_locked_migrations_as_they_are(project: Path, capsys: pytest.CaptureFixture) -> None:
    """Formatting a locked migration would break MSC105 and, once applied, the
    applier's checksum: `lock` then `format` must change nothing locked."""
    migration(project, BAD)
    assert main(["lock"]) == 0
    (project / "migrations" / "002_b.sql").write_text(BAD)
    (project / "migrations" / "002_b_rollback.sql").write_text(GOOD)
    capsys.readouterr()
    assert main(["format"]) == 1  # 002 is not locked: fixed
    out = capsys.readouterr().out
    assert "migrations/001_a.sql: left as is: locked in migrations/sqlcheck.sum" in out
    assert "fixed migrations/002_b.sql" in out
    assert (project / "migrations" / "001_a.sql").read_text() == BAD
    assert main(["format", "migrations/001_a.sql"]) == 0
    assert (project / "migrations" / "001_a.sql").read_text() == BAD
    assert main(["lint", "--select", "MSC105"]) == 0


def test_format_include_locked_warns_about_the_lock_file(project: Path, capsys: pytest.CaptureFixture) -> None:
    migration(project, BAD)
    assert main(["lock"]) == 0
    capsys.readouterr()
    assert main(["format", "--include-locked"]) == 1
    captured = capsys.readouterr()
    assert "fixed migrations/001_a.sql" in captured.out
    assert "warning: formatting migrations locked in migrations/sqlcheck.sum" in captured.err
    assert "lock --force" in captured.err
    assert main(["lint", "--select", "MSC105"]) == 1


def test_format_keeps_crlf_and_bom(project: Path) -> None:
    target = project / "migrations" / "001_a.sql"
    target.write_bytes(b"\xef\xbb\xbf" + BAD.replace("\n", "\r\n").encode())
    assert main(["format", str(target)]) == 1
    assert target.read_bytes() == b"\xef\xbb\xbfselect\r\n    a,\r\n    b\r\nfrom t;\r\n"
    assert main(["format", str(target)]) == 0


def test_format_uses_the_users_sqlfluff_config(project: Path) -> None:
    (project / ".sqlfluff").write_text("[sqlfluff]\ndialect = postgres\n"
                                       "[sqlfluff:rules:capitalisation.keywords]\ncapitalisation_policy = upper\n")
    target = project / "migrations" / "001_a.sql"
    target.write_text("select a from t;\n")
    assert main(["format"]) == 1
    assert target.read_text() == "SELECT a FROM t;\n"


def test_format_bad_sqlfluff_config_is_a_usage_error(project: Path) -> None:
    (project / ".sqlfluff").write_text("[sqlfluff]\ndialect = no_such_dialect\n")
    (project / "migrations" / "001_a.sql").write_text(GOOD)
    assert main(["format"]) == 2


def test_format_skips_what_it_cannot_read(project: Path) -> None:
    (project / "migrations" / "001_a.sql").write_bytes(b"SELECT '\xe9';\n")
    assert main(["format"]) == 1


# -- lint --format-check ----------------------------------------------------------


def test_format_check_reports_in_every_output_format(project: Path, capsys: pytest.CaptureFixture) -> None:
    migration(project, "SELECT   a FROM t;\n")
    assert main(["lint", "migrations"]) == 0  # off by default
    capsys.readouterr()
    assert main(["lint", "--format-check", "--format", "json", "migrations"]) == 1
    diagnostic = json.loads(capsys.readouterr().out)["diagnostics"][0]
    assert (diagnostic["rule"], diagnostic["line"], diagnostic["column"]) == ("MSC005", 1, 7)
    assert diagnostic["message"].startswith("LT01: ")
    assert main(["lint", "--format-check", "--format", "github", "migrations"]) == 1
    assert "::error file=migrations/001_a.sql,line=1,col=7," in capsys.readouterr().out


def test_format_check_config_switch_respects_select(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text("[tool.mobius_sqlcheck]\nformat_check = true\n")
    migration(project, "SELECT   a FROM t;\n")
    assert main(["lint"]) == 1
    assert "MSC005" in capsys.readouterr().out
    assert main(["lint", "--select", "MSC101"]) == 0


def test_sqlfluff_config_key_must_name_a_file(project: Path, capsys: pytest.CaptureFixture) -> None:
    (project / "pyproject.toml").write_text('[tool.mobius_sqlcheck]\nsqlfluff_config = "nowhere.cfg"\n')
    assert main(["lint"]) == 2
    assert "tool.mobius_sqlcheck.sqlfluff_config" in capsys.readouterr().err


# -- cache --------------------------------------------------------------------------


def test_unchanged_files_are_never_linted_twice(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = {str(project / "migrations" / f"00{n}_a.sql"): BAD if n % 2 else GOOD for n in range(1, 5)}
    first = check_texts(texts, Settings())
    assert not any(result.cached for result in first.values())
    monkeypatch.setattr(worker, "process", no_sqlfluff)
    second = check_texts(texts, Settings())
    assert all(result.cached for result in second.values())
    assert {p: r.violations for p, r in second.items()} == {p: r.violations for p, r in first.items()}


def test_a_config_change_invalidates_the_cache(project: Path) -> None:
    texts = {str(project / "migrations" / "001_a.sql"): "SELECT   a FROM t;\n"}
    assert check_texts(texts, Settings())[next(iter(texts))].violations
    (project / ".sqlfluff").write_text("[sqlfluff]\ndialect = postgres\nexclude_rules = LT01\n")
    # Not served from the cache, in this same process with nothing cleared: the
    # fingerprint is keyed by the config files' modification times and sizes.
    assert not check_texts(texts, Settings())[next(iter(texts))].cached


def test_the_cache_ignores_itself_in_git(project: Path, cache_dir: Path) -> None:
    check_texts({str(project / "a.sql"): GOOD}, Settings())
    assert (cache_dir / ".gitignore").read_text().splitlines()[-1] == "*"


def test_an_unwritable_cache_only_costs_time(project: Path) -> None:
    blocker = project / "not-a-directory"
    blocker.write_text("")
    result = check_texts({str(project / "a.sql"): BAD}, Settings(cache_dir=str(blocker / "cache")))
    assert result[str(project / "a.sql")].violations


# -- pool ----------------------------------------------------------------------------


def test_large_sets_use_a_process_pool(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pools = []
    real_pool = runner.process_pool

    def spy(workers: int):
        pools.append(workers)
        return real_pool(workers)

    monkeypatch.setattr(runner, "process_pool", spy)
    count = 2 * runner.MIN_FILES_PER_WORKER
    texts = {str(project / f"{n:03}_a.sql"): BAD if n % 2 else GOOD for n in range(count)}
    pooled = check_texts(texts, Settings(workers=2))
    assert pools == [2]
    serial = check_texts(texts, Settings(workers=1, cache_dir=str(project / "other-cache")))
    assert pools == [2]
    assert {p: r.violations for p, r in pooled.items()} == {p: r.violations for p, r in serial.items()}


# -- start-up ------------------------------------------------------------------------


def _imports(*args: str, cwd: Path, env_cache: Path) -> str:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "mobius_sqlcheck", *args], cwd=cwd,
                          capture_output=True, text=True,
                          env={"MOBIUS_SQLCHECK_CACHE_DIR": str(env_cache), "PATH": "/usr/bin:/bin",
                               "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stderr


def test_sqlfluff_is_imported_only_when_formatting_has_work(project: Path, cache_dir: Path) -> None:
    migration(project, GOOD)
    assert "sqlfluff" not in _imports("lint", "migrations", cwd=project, env_cache=cache_dir)
    assert "sqlfluff" in _imports("lint", "--format-check", "migrations", cwd=project, env_cache=cache_dir)
    # The second run finds every result in the cache: sqlfluff is not even imported.
    assert "sqlfluff" not in _imports("lint", "--format-check", "migrations", cwd=project, env_cache=cache_dir)

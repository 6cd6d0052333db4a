"""Bad input through the command line: each case has its exit code and its
message (README, Usage: 0 no error, 1 findings, 2 usage or
configuration, never a traceback). Most run `cli.main` in-process; the
20 MB file and the named pipe run the real command in a subprocess.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mobius_sqlcheck.cli import main

REPO = Path(__file__).resolve().parent.parent
ROLLBACK = b"SELECT 1;\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a pyproject.toml and an empty migrations directory; the cwd."""
    (tmp_path / "pyproject.toml").write_text("[tool.mobius_sqlcheck]\n", encoding="utf-8")
    (tmp_path / "migrations").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict | None, str]:
    """Run `lint --format json ARGS`: exit code, the JSON document (None when
    nothing was printed) and stderr. No traceback, ever."""
    code = main(["lint", "--format", "json", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, json.loads(captured.out) if captured.out else None, captured.err


def found(document: dict) -> list[tuple[str, int, int, str]]:
    return [(d["rule"], d["line"], d["column"], d["message"]) for d in document["diagnostics"]]


def write_migration(name: str, data: bytes) -> str:
    path = Path("migrations") / name
    path.write_bytes(data)
    path.with_name(name.replace(".sql", "_rollback.sql")).write_bytes(ROLLBACK)
    return str(path)


# -- file contents ----------------------------------------------------------------------

UTF16 = "SELECT 1;\n".encode("utf-16")  # with its BOM

CONTENT_CASES = [
    # (name, bytes, exit code, [(rule, line, column, message)])
    ("empty", b"", 0, [("MSC003", 1, 1, "migration has no statement (an empty file)")]),
    ("comments only", b"-- nothing\n/* at all */\n", 0, [("MSC003", 1, 1, "migration has no statement (comments only)")]),
    ("white space only", b" \n\t\r\n", 0, [("MSC003", 1, 1, "migration has no statement (an empty file)")]),
    ("NUL byte", b"SELECT 1;\x00\n", 1, [("MSC002", 1, 10, "binary file (contains a NUL byte)")]),
    ("latin-1", b"SELECT 1;\n-- caf\xe9\n", 1, [("MSC002", 2, 7, "not valid UTF-8 (byte 0xe9)")]),
    ("UTF-16 LE with BOM", UTF16, 1, [("MSC002", 1, 1, "file is UTF-16 encoded; save it as UTF-8")]),
    ("UTF-16 BE with BOM", "SELECT 1;\n".encode("utf-16-be").join([b"\xfe\xff", b""]), 1,
     [("MSC002", 1, 1, "file is UTF-16 encoded; save it as UTF-8")]),
    ("UTF-8 BOM", b"\xef\xbb\xbfSELECT (;\n", 1, [("MSC001", 1, 9, 'syntax error at or near ";"')]),
    ("lone surrogate", b"SELECT '\xed\xa0\x80';\n", 1, [("MSC002", 1, 9, "not valid UTF-8 (byte 0xed)")]),
    ("truncated UTF-8", "SELECT 'é".encode()[:-1], 1, [("MSC002", 1, 9, "not valid UTF-8 (byte 0xc3)")]),
    ("CRLF syntax error", b"SELECT 1;\r\nSELECT (;\r\n", 1, [("MSC001", 2, 9, 'syntax error at or near ";"')]),
    ("unterminated string", b"SELECT 'abc\n;\n" + b"x" * 5000, 1,
     [("MSC001", 1, 8, "unterminated quoted string at or near \"'abc...\"")]),
]


@pytest.mark.parametrize(("name", "data", "code", "expected"), CONTENT_CASES, ids=[c[0] for c in CONTENT_CASES])
def test_file_contents(project, capsys, name, data, code, expected) -> None:
    path = write_migration("001_case.sql", data)
    exit_code, document, err = lint(capsys, path)
    assert (exit_code, found(document), err) == (code, expected, "")


def test_a_20_megabyte_file_in_a_real_process(project) -> None:
    rows = ",\n".join(f"({n}, 'ligne {n} — été')" for n in range(2000))
    statement = f"INSERT INTO public.items (id, label) VALUES\n{rows};\n"
    data = (statement * (20 * 1024 * 1024 // len(statement.encode()) + 1)).encode()
    assert len(data) > 20 * 1024 * 1024
    path = write_migration("001_big.sql", data + b"COMMIT;\n")
    completed = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", "--format", "json", path],
                               capture_output=True, text=True, timeout=300, check=False,
                               env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert completed.returncode == 1 and completed.stderr == ""
    line = data.count(b"\n") + 1
    assert [d[:3] for d in found(json.loads(completed.stdout))] == [("MSC503", line, 1)]


# -- files that cannot be read ------------------------------------------------------------


def test_symlink_loop(project, capsys) -> None:
    os.symlink("002_b.sql", "migrations/001_a.sql")
    os.symlink("001_a.sql", "migrations/002_b.sql")
    code, document, _ = lint(capsys, "migrations/001_a.sql")
    assert code == 1
    assert ("MSC002", 1, 1, "cannot read file: Too many levels of symbolic links") in found(document)


def test_dangling_symlink(project, capsys) -> None:
    os.symlink("gone.sql", "migrations/001_a.sql")
    code, document, _ = lint(capsys, "migrations/001_a.sql")
    assert code == 1
    assert ("MSC002", 1, 1, "cannot read file: No such file or directory") in found(document)


def test_directory_named_like_a_migration(project, capsys) -> None:
    Path("migrations/001_a.sql").mkdir()
    code, document, _ = lint(capsys, "migrations/001_a.sql")
    assert code == 1
    assert ("MSC002", 1, 1, "is a directory, not a file") in found(document)


def test_directory_named_x_sql_outside_migrations(project, capsys) -> None:
    Path("x.sql").mkdir()
    code, document, _ = lint(capsys, "x.sql")
    assert (code, found(document)) == (1, [("MSC002", 1, 1, "is a directory, not a file")])
    assert document["diagnostics"][0]["hint"].startswith("A migration must be a readable regular file")


def test_undecodable_file_keeps_the_encoding_hint(project, capsys) -> None:
    code, document, _ = lint(capsys, write_migration("001_a.sql", b"\xff"))
    assert document["diagnostics"][0]["hint"] == "Save the file as UTF-8 text."


def test_named_pipe_is_refused_without_waiting_for_a_writer(project) -> None:
    """Opening a FIFO for reading blocks until a writer comes: the lint (and
    the lock-file check, MSC105, which sums every locked file) hung forever."""
    Path("migrations/001_a.sql").write_bytes(b"SELECT 1;\n")
    Path("migrations/001_a_rollback.sql").write_bytes(ROLLBACK)
    assert main(["lock"]) == 0
    os.unlink("migrations/001_a.sql")
    os.mkfifo("migrations/001_a.sql")
    for args in (["migrations/001_a.sql"], ["migrations"]):
        completed = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", *args], capture_output=True,
                                   text=True, timeout=60, check=False, env=dict(os.environ, PYTHONPATH=str(REPO)))
        assert completed.returncode == 1, completed.stdout + completed.stderr
        assert ("migrations/001_a.sql:1:1: MSC002 cannot read file: not a regular file "
                "(a named pipe, socket or device)") in completed.stdout


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="Linux: /proc/self/mem fails to read")
def test_a_read_that_fails_with_an_io_error(project, capsys) -> None:
    """Unreadable even for root: reading /proc/self/mem at offset 0 is EIO."""
    os.symlink("/proc/self/mem", "migrations/001_a.sql")
    code, document, _ = lint(capsys, "migrations/001_a.sql")
    assert code == 1
    assert ("MSC002", 1, 1, "cannot read file: Input/output error") in found(document)


def _drop_dac_override() -> None:
    """In the child before exec: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    from the bounding set, so that root after exec obeys file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _can_drop_dac_override() -> bool:
    try:
        completed = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_drop_dac_override, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return completed.returncode == 0


def test_unreadable_file(project, capsys) -> None:
    """chmod 000. Root reads it anyway (CAP_DAC_OVERRIDE): as root, the file
    is checked in a child process that dropped that capability; where it
    cannot be dropped, the root behaviour is asserted instead."""
    path = write_migration("001_a.sql", b"SELECT 1;\n")
    os.chmod(path, 0)
    expected = ("MSC002", 1, 1, "cannot read file: Permission denied")
    try:
        if os.geteuid() != 0:
            code, document, _ = lint(capsys, path)
            assert code == 1 and expected in found(document)
        elif _can_drop_dac_override():
            completed = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", "--format", "json", path],
                                       capture_output=True, text=True, timeout=60, check=False,
                                       env=dict(os.environ, PYTHONPATH=str(REPO)), preexec_fn=_drop_dac_override)
            assert completed.returncode == 1, completed.stdout + completed.stderr
            assert expected in found(json.loads(completed.stdout))
            assert "Traceback" not in completed.stderr
        else:  # root with every capability: permissions do not stop a read
            code, document, _ = lint(capsys, path)
            assert (code, found(document)) == (0, [])
    finally:
        os.chmod(path, 0o644)


def test_unreadable_directory_of_migrations_as_root_or_not(project, capsys) -> None:
    """A file given in a directory that cannot be listed: still linted alone."""
    path = write_migration("001_a.sql", b"SELECT (;\n")
    code, document, _ = lint(capsys, path)
    assert code == 1 and found(document) == [("MSC001", 1, 9, 'syntax error at or near ";"')]


# -- paths ----------------------------------------------------------------------------------


def test_missing_path_is_a_usage_error(project, capsys) -> None:
    code, document, err = lint(capsys, "migrations/404_missing.sql")
    assert (code, document) == (2, None)
    assert err == "mobius-sqlcheck: error: no such file or directory: migrations/404_missing.sql\n"


@pytest.mark.parametrize("directory", ["with spaces", "répertoire é", "日本語 dir", "-dash", "a'quote\"s"])
def test_paths_with_spaces_and_non_ascii_are_kept_as_given(project, capsys, directory) -> None:
    migrations = Path(directory) / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "001_a.sql").write_text("SELECT 1;\n  SELECT (;\n", encoding="utf-8")
    (migrations / "001_a_rollback.sql").write_text("SELECT 1;\n", encoding="utf-8")
    path = str(migrations / "001_a.sql")
    code, document, _ = lint(capsys, "--", path)
    assert code == 1
    assert [(d["path"], d["line"], d["column"]) for d in document["diagnostics"]] == [(path, 2, 11)]
    assert main(["lint", "--", path]) == 1
    assert capsys.readouterr().out.startswith(f"{path}:2:11: MSC001 ")
    assert main(["lint", "--format", "sarif", "--", path]) == 1
    uri = json.loads(capsys.readouterr().out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"]["uri"]
    assert " " not in uri and uri.isascii()


def test_non_ascii_file_name_outside_migrations(project, capsys) -> None:
    Path("schéma de données.sql").write_text("SELECT 'é', (;\n", encoding="utf-8")
    code, document, _ = lint(capsys, "schéma de données.sql")
    assert (code, found(document)) == (1, [("MSC001", 1, 14, 'syntax error at or near ";"')])


def test_sarif_file_that_cannot_be_written(project, capsys) -> None:
    Path("migrations/001_a.sql").write_text("SELECT 1;\n")
    code = main(["lint", "--sarif-file", "no/such/dir/out.sarif", "migrations/001_a.sql"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write no/such/dir/out.sarif: No such file or directory" in err


# -- configuration -------------------------------------------------------------------------

CONFIG_CASES = [
    # (name, pyproject.toml bytes, message on stderr)
    ("unknown rule id", b'[tool.mobius_sqlcheck]\nselect = ["MSC999"]\n',
     "tool.mobius_sqlcheck.select: unknown rule 'MSC999'"),
    ("unknown rule in ignore", b'[tool.mobius_sqlcheck]\nignore = ["XYZ1"]\n',
     "tool.mobius_sqlcheck.ignore: unknown rule 'XYZ1'"),
    ("unknown rule in severity", b'[tool.mobius_sqlcheck]\nseverity = { MSC9 = "error" }\n',
     "tool.mobius_sqlcheck.severity.MSC9: unknown rule 'MSC9'"),
    ("invalid regex", b'[tool.mobius_sqlcheck]\nindex_name_pattern = "^idx_{table}_("\n',
     "tool.mobius_sqlcheck.index_name_pattern: invalid regular expression"),
    ("wrong type: string for int", b'[tool.mobius_sqlcheck]\npooler_port = "6543"\n',
     "tool.mobius_sqlcheck.pooler_port must be an integer, got '6543'"),
    ("wrong type: bool for int", b"[tool.mobius_sqlcheck]\npooler_port = true\n",
     "tool.mobius_sqlcheck.pooler_port must be an integer, got True"),
    ("wrong type: string for list", b'[tool.mobius_sqlcheck]\nselect = "MSC1"\n',
     "tool.mobius_sqlcheck.select must be a list, got 'MSC1'"),
    ("wrong type: list item", b"[tool.mobius_sqlcheck]\nignore = [1]\n",
     "tool.mobius_sqlcheck.ignore must be a list of strings, got [1]"),
    ("wrong type: table", b'[tool.mobius_sqlcheck]\nseverity = "error"\n',
     "tool.mobius_sqlcheck.severity must be a table, got 'error'"),
    ("bad severity", b'[tool.mobius_sqlcheck]\nseverity = { MSC301 = 1 }\n',
     "tool.mobius_sqlcheck.severity.MSC301 must be one of error, warning, off"),
    ("bad fail_on", b'[tool.mobius_sqlcheck]\nfail_on = "info"\n',
     "tool.mobius_sqlcheck.fail_on must be one of error, warning"),
    ("port out of range", b"[tool.mobius_sqlcheck]\npooler_port = 99999999999999999999999\n",
     "tool.mobius_sqlcheck.pooler_port must be a TCP port (1-65535)"),
    ("unknown key", b"[tool.mobius_sqlcheck]\nno_such_key = 1\n", "unknown key tool.mobius_sqlcheck.no_such_key"),
    ("section not a table", b"[tool]\nmobius_sqlcheck = 3\n", "[tool.mobius_sqlcheck] must be a table"),
    ("tool not a table", b"tool = 3\n", "pyproject.toml: [tool] must be a table"),
    ("invalid TOML", b"[tool.mobius_sqlcheck\nselect = [\n", "pyproject.toml: invalid TOML: "),
    ("duplicate key", b"[tool.mobius_sqlcheck]\nfail_on = 'error'\nfail_on = 'error'\n", "invalid TOML"),
    ("not UTF-8", b'[tool.mobius_sqlcheck]\nmigrations = "caf\xe9"\n',
     "pyproject.toml: invalid TOML: not UTF-8 (byte 0xe9)"),
]


@pytest.mark.parametrize(("name", "toml", "message"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_configuration_errors_exit_2_with_one_line(project, capsys, name, toml, message) -> None:
    Path("pyproject.toml").write_bytes(toml)
    Path("migrations/001_a.sql").write_text("SELECT 1;\n")
    code, document, err = lint(capsys, "migrations/001_a.sql")
    assert (code, document) == (2, None)
    assert err.startswith("mobius-sqlcheck: error: ") and err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize(("args", "message"), [
    (["--config", "missing.toml"], "cannot read config missing.toml: No such file or directory"),
    (["--config", "migrations"], "cannot read config migrations: Is a directory"),
    (["--select", "MSC9"], "--select: unknown rule 'MSC9'"),
    (["--ignore", "NOPE"], "--ignore: unknown rule 'NOPE'"),
])
def test_command_line_errors_exit_2(project, capsys, args, message) -> None:
    Path("migrations/001_a.sql").write_text("SELECT 1;\n")
    code, document, err = lint(capsys, *args, "migrations/001_a.sql")
    assert (code, document) == (2, None) and message in err


def test_argparse_errors_exit_2_without_a_traceback(project) -> None:
    completed = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", "--format", "yaml"],
                               capture_output=True, text=True, check=False, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert completed.returncode == 2
    assert "invalid choice: 'yaml'" in completed.stderr and "Traceback" not in completed.stderr

"""A rule that raises, inside the server: one MSC004 diagnostic where it
raised, every other finding still published, and the server lives on.
Also: the lint command never imports the server's libraries."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.failing_rules import write_rule_package

ROOT = Path(__file__).resolve().parents[2]
RULES_HOME = Path(tempfile.mkdtemp(prefix="mobius-server-rules-"))
PACKAGE = f"mobius_server_failing_rules_{os.getpid()}"
write_rule_package(RULES_HOME, PACKAGE, ("msc990_boom_statement.py",))  # the other scopes would add MSC004s
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(RULES_HOME)]),
       "MOBIUS_SQLCHECK_EXTRA_RULES": PACKAGE}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "mobius_sqlcheck", "server"],
                                              server_env=ENV))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("neovim")))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_a_rule_crash_is_one_msc004(client: LanguageClient, tmp_path: Path):
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    path = migrations / "001_boom.sql"
    path.write_text("CREATE TABLE t (id int);\nSELECT 'explode here';\nALTER TABLE auth.users ADD COLUMN x int NOT NULL;\n")
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=path.as_uri(), language_id="sql", version=1, text=path.read_text())))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline and not client.diagnostics.get(path.as_uri()):
        await asyncio.sleep(0.05)
    found = client.diagnostics[path.as_uri()]
    crashes = [d for d in found if d.code == "MSC004"]
    assert len(crashes) == 1 and crashes[0].range.start.line == 1
    assert "MSC990" in crashes[0].message
    assert "MSC301" in [d.code for d in found]


def test_the_lint_command_never_imports_the_server(tmp_path: Path):
    migration = tmp_path / "migrations" / "001_init.sql"
    migration.parent.mkdir()
    migration.write_text("CREATE TABLE t (id int);\n")
    code = ("import sys\nfrom mobius_sqlcheck.cli import main\nmain(['lint', '--no-cache', sys.argv[1]])\n"
            "loaded = [m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'cattrs')\n"
            "          or m.startswith(('mobius_sqlcheck.server', 'mobius_sqlcheck.fixes'))]\n"
            "print('LOADED', loaded, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, str(migration)], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert "LOADED []" in done.stderr, done.stderr

"""Bytes that are not a well-formed LSP message: the server answers what
the protocol says (a JSON-RPC error for a request it can read), logs, and
goes on to answer the next message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _frame(payload: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(payload) + payload


def _message(**fields: object) -> bytes:
    return _frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())


def _responses(output: bytes) -> list[dict]:
    found = []
    while b"\r\n\r\n" in output:
        header, rest = output.split(b"\r\n\r\n", 1)
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        found.append(json.loads(rest[:length]))
        output = rest[length:]
    return found


def test_garbage_then_a_real_request_is_answered():
    stdin = b"".join([
        _frame(b"{this is not json"),
        _message(id=1, method="textDocument/hover", params={"nonsense": True}),
        _message(id=2, method="initialize", params={"processId": None, "rootUri": None, "capabilities": {}}),
        _message(method="initialized", params={}),
        _message(id=3, method="textDocument/hover",
                 params={"textDocument": {"uri": "file:///nowhere/x.sql"}, "position": {"line": 0, "character": 0}}),
        _message(id=5, method="textDocument/definition",  # a method the server does not offer
                 params={"textDocument": {"uri": "file:///nowhere/x.sql"}, "position": {"line": 0, "character": 0}}),
        _message(method="textDocument/didOpen", params={"textDocument": 42}),  # a notification it cannot read
        _message(method="textDocument/didChange",  # a change to a document never opened
                 params={"textDocument": {"uri": "file:///nowhere/y.sql", "version": 2},
                         "contentChanges": [{"text": "SELECT 1;"}]}),
        _message(id=6, method="textDocument/hover",
                 params={"textDocument": {"uri": "file:///nowhere/x.sql"}, "position": {"line": 0, "character": 0}}),
        _message(id=4, method="shutdown"),
        _message(method="exit"),
    ])
    done = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "server"], input=stdin, capture_output=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    responses = _responses(done.stdout)
    by_id = {r.get("id"): r for r in responses if "id" in r}
    assert any(r.get("error", {}).get("code") == -32700 for r in responses)  # the JSON-RPC parse error
    assert "error" in by_id[1]  # invalid params: an error response, not a dead server
    assert "capabilities" in by_id[2]["result"]
    assert by_id[2]["result"]["capabilities"]["hoverProvider"]
    assert by_id[3]["result"] is None  # a document never opened: no hover
    assert by_id[5]["error"]["code"] == -32601  # MethodNotFound, as JSON-RPC says
    assert by_id[6]["result"] is None  # still answering after the notifications it could not use
    assert "result" in by_id[4]
    assert b"Traceback" not in done.stderr
    # One line per bad message: the garbage, the two with invalid params, the unknown method.
    assert len(done.stderr.decode().splitlines()) == 4, done.stderr.decode()


def _readme_blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### In the editor"):]
    section = section[:section.index("\n### ", 5)]
    return [block.split("\n", 1)[1] for block in section.split("```")[1::2] if block.startswith(language)]


def test_the_editor_configs_in_the_readme_start_the_server():
    """The command each README snippet names (VS Code, Helix, Zed, Neovim) answers initialize."""
    import re
    import tomllib

    commands = []
    [vscode, zed] = [json.loads(block) for block in _readme_blocks("json")]
    commands.append(vscode["vscode-lspconfig.serverConfigurations"][0]["command"])
    binary = zed["lsp"]["mobius-sqlcheck"]["binary"]
    commands.append([binary["path"], *binary["arguments"]])
    [helix] = [tomllib.loads(block) for block in _readme_blocks("toml")]
    server = helix["language-server"]["mobius-sqlcheck"]
    commands.append([server["command"], *server["args"]])
    [lua] = _readme_blocks("lua")
    commands.append(re.findall(r'"([^"]+)"', re.search(r"cmd = \{([^}]*)\}", lua).group(1)))
    assert all(command == ["mobius-sqlcheck", "server"] for command in commands), commands
    executable = Path(sys.executable).parent / "mobius-sqlcheck"  # the console script pip installed
    stdin = b"".join([
        _message(id=1, method="initialize", params={"processId": None, "rootUri": None, "capabilities": {}}),
        _message(id=2, method="shutdown"),
        _message(method="exit"),
    ])
    done = subprocess.run([str(executable), *commands[0][1:]], input=stdin, capture_output=True, timeout=120)
    by_id = {r.get("id"): r for r in _responses(done.stdout)}
    assert by_id[1]["result"]["serverInfo"]["name"] == "mobius-sqlcheck"
    assert done.returncode == 0

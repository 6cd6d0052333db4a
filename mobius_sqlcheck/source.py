"""Reading a file into text, and mapping byte offsets to what a person sees.

libpg_query reports byte offsets into the UTF-8 text; users want 1-based lines
and columns counted in characters. `SourceFile` keeps both forms and converts
lazily: most statements never produce a diagnostic, so the line table is only
built when a position is first asked for.
"""

from __future__ import annotations

import bisect
import errno
import os
import stat
from typing import NamedTuple

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


# Records are NamedTuples and plain classes rather than dataclasses: the
# pre-commit hook starts a process per commit, and dataclasses cost start-up time.


class Position(NamedTuple):
    line: int
    column: int


# Characters between two entries of a non-ASCII file's character -> byte
# table: converting an offset costs at most this much, however long the file
# or its lines.
_CHUNK = 256


class SourceFile:
    """A decoded text file. `data` is `text` in UTF-8 (the BOM removed)."""

    __slots__ = ("path", "text", "data", "_line_starts", "_checkpoints")

    def __init__(self, path: str, text: str, data: bytes) -> None:
        self.path = path
        self.text = text
        self.data = data
        self._line_starts: list[int] | None = None
        self._checkpoints: list[int] | None = None

    def __repr__(self) -> str:
        return f"SourceFile({self.path!r})"

    @property
    def is_ascii(self) -> bool:
        return len(self.data) == len(self.text)

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.data.find
            at = find(b"\n")
            while at != -1:
                starts.append(at + 1)
                at = find(b"\n", at + 1)
            self._line_starts = starts
        return self._line_starts

    def position(self, byte_offset: int) -> Position:
        """1-based line and character column of a byte offset."""
        byte_offset = max(0, min(byte_offset, len(self.data)))
        starts = self.line_starts()
        line_index = bisect.bisect_right(starts, byte_offset) - 1
        line_start = starts[line_index]
        if self.is_ascii:
            column = byte_offset - line_start
        else:
            column = self._chars_before(byte_offset) - self._chars_before(line_start)
        return Position(line_index + 1, column + 1)

    def byte_offset_of_char(self, char_offset: int) -> int:
        if self.is_ascii:
            return char_offset
        char_offset = max(0, min(char_offset, len(self.text)))
        chunk = char_offset // _CHUNK
        return self._byte_checkpoints()[chunk] + len(self.text[chunk * _CHUNK:char_offset].encode("utf-8"))

    def _chars_before(self, byte_offset: int) -> int:
        """Characters before a byte offset (a character cut at the offset
        counts as one)."""
        checkpoints = self._byte_checkpoints()
        chunk = bisect.bisect_right(checkpoints, byte_offset) - 1
        return chunk * _CHUNK + len(self.data[checkpoints[chunk]:byte_offset].decode("utf-8", "replace"))

    def _byte_checkpoints(self) -> list[int]:
        """The byte offset of every _CHUNK-th character, up to the end of the
        text. Computing offsets by encoding the text from its start each time
        was quadratic in a long non-ASCII file."""
        if self._checkpoints is None:
            text = self.text
            checkpoints = [0]
            total = 0
            for end in range(_CHUNK, len(text) + 1, _CHUNK):
                total += len(text[end - _CHUNK:end].encode("utf-8"))
                checkpoints.append(total)
            self._checkpoints = checkpoints
        return self._checkpoints


class ReadProblem(NamedTuple):
    """Why a file could not be read as text (reported as MSC002)."""

    path: str
    message: str
    line: int = 1
    column: int = 1
    hint: str | None = None  # None: MSC002's own (save it as UTF-8)


NOT_A_FILE_HINT = "A migration must be a readable regular file: check the path, its permissions or its symlink."


# Opening a named pipe for reading would wait for a writer: forever, in a
# pre-commit hook. Non-blocking, it opens at once and is refused as not a file.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def read_file_bytes(path: str) -> bytes:
    """A regular file's bytes; OSError for anything else (never waits on a pipe)."""
    with open(os.open(path, _OPEN_FLAGS), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a named pipe, socket or device)")
        return handle.read()


def read_source(path: str) -> SourceFile | ReadProblem:
    try:
        raw = read_file_bytes(path)
    except OSError as error:
        # Asked only now: a stat more for every file read, in a long history, adds up.
        if os.path.isdir(path):
            return ReadProblem(path, "is a directory, not a file", hint=NOT_A_FILE_HINT)
        return ReadProblem(path, f"cannot read file: {error.strerror or error}", hint=NOT_A_FILE_HINT)
    return decode_source(path, raw)


def decode_source(path: str, raw: bytes) -> SourceFile | ReadProblem:
    if raw.startswith(UTF16_BOMS):
        return ReadProblem(path, "file is UTF-16 encoded; save it as UTF-8")
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM):]
    nul = raw.find(b"\x00")
    if nul != -1:
        return _problem_at(path, raw, nul, "binary file (contains a NUL byte)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return _problem_at(path, raw, error.start, f"not valid UTF-8 (byte 0x{raw[error.start]:02x})")
    return SourceFile(path, text, raw)


def _problem_at(path: str, raw: bytes, offset: int, message: str) -> ReadProblem:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    line = raw.count(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", "replace")) + 1
    return ReadProblem(path, message, line, column)


def skip_trivia(data: bytes, offset: int) -> int:
    """The offset of the first token at or after `offset`: skips white space,
    `--` comments and (nested) `/* */` comments."""
    size = len(data)
    while offset < size:
        byte = data[offset]
        if byte in b" \t\r\n\f\v":
            offset += 1
        elif data.startswith(b"--", offset):
            newline = data.find(b"\n", offset)
            offset = size if newline == -1 else newline + 1
        elif data.startswith(b"/*", offset):
            offset = _skip_block_comment(data, offset)
        else:
            break
    return offset


def _skip_block_comment(data: bytes, offset: int) -> int:
    depth = 0
    size = len(data)
    while offset < size:
        if data.startswith(b"/*", offset):
            depth += 1
            offset += 2
        elif data.startswith(b"*/", offset):
            depth -= 1
            offset += 2
            if depth == 0:
                return offset
        else:
            offset += 1
    return size


class SectionSource(SourceFile):
    """A section of a file (see `section_of`): for parsing, not for positions."""

    __slots__ = ()


def section_of(source: SourceFile, start: int, end: int | None) -> SourceFile:
    """The file with everything outside bytes `start:end` blanked (each byte a
    space, line ends kept), so a section parses alone while every offset, line
    and column inside it stays that of the real file."""
    data = source.data
    end = len(data) if end is None else end

    def blank(part: bytes) -> bytes:
        return bytes(byte if byte == 0x0A else 0x20 for byte in part)

    blanked = blank(data[:start]) + data[start:end] + blank(data[end:])
    return SectionSource(source.path, blanked.decode("utf-8", "replace"), blanked)

"""The Supabase CLI's migration history, `supabase_migrations.schema_migrations`.

`supabase db push` records each file it applied as one row: the version (the
digits before the first `_` of the file name), the rest of the name, and the
file split into statements. It keeps no checksum, so "does the recorded
migration still match the file" means: split the file as the CLI does and
compare the statements.

The applier reads this table (status, the refusal to re-apply what the CLI
applied, `baseline --from-supabase`) and, with `supabase_history = "write"`,
also writes the row the CLI would have written, in the migration's own
transaction, so `supabase migration list` agrees with us.

The CLI keys the table by version alone: of two files with the same version
(the grandfathered duplicate 004) only the first can have a row there.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from mobius_sqlcheck.source import read_file_bytes

SCHEMA = "supabase_migrations"
TABLE = f"{SCHEMA}.schema_migrations"
READ, WRITE = "read", "write"
MODES = (READ, WRITE)

# What the CLI runs before a push (pkg/migration/history.go): a table created
# by an old CLI gains the two later columns the same way.
CREATE_STATEMENTS = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {TABLE} (version text NOT NULL PRIMARY KEY)",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS statements text[]",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS name text",
)


@dataclass(frozen=True, slots=True)
class CliRow:
    version: str
    name: str
    statements: tuple[str, ...] | None  # None: recorded by a CLI too old to keep them


def exists(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
    return bool(row and row[0])


def read_all(conn: psycopg.Connection) -> dict[str, CliRow]:
    """Every row by version; empty when the CLI never ran here. Old CLIs had
    no `statements` / `name` columns: read what there is."""
    if not exists(conn):
        return {}
    columns = {
        r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (SCHEMA, "schema_migrations"),
        ).fetchall()
    }
    name = "coalesce(name, '')" if "name" in columns else "''"
    statements = "statements" if "statements" in columns else "NULL::text[]"
    rows = conn.execute(f"SELECT version, {name}, {statements} FROM {TABLE} ORDER BY version").fetchall()
    return {r[0]: CliRow(r[0], r[1], tuple(r[2]) if r[2] is not None else None) for r in rows}


def ensure_table(conn: psycopg.Connection) -> None:
    for statement in CREATE_STATEMENTS:
        conn.execute(statement)


def record(conn: psycopg.Connection, version: str, name: str, statements: list[str]) -> bool:
    """Insert the CLI's row; False when the version already has one (the
    second file of a duplicate version)."""
    cursor = conn.execute(
        f"INSERT INTO {TABLE} (version, name, statements) VALUES (%s, %s, %s) ON CONFLICT (version) DO NOTHING",
        (version, name, statements),
    )
    return cursor.rowcount == 1


def forget(conn: psycopg.Connection, version: str, name: str) -> None:
    conn.execute(f"DELETE FROM {TABLE} WHERE version = %s AND coalesce(name, '') = %s", (version, name))


# --- matching a file against its row ---


def file_statements(path: str) -> list[str]:
    """The statements the CLI would record for the file at `path`."""
    return split_statements(read_file_bytes(path).decode("utf-8", errors="replace"))


def row_for(rows: dict[str, CliRow], version: str, name: str) -> CliRow | None:
    """The CLI's row of this file: same version and same name (or no name:
    CLIs before the `name` column recorded the version alone)."""
    row = rows.get(version)
    return row if row is not None and row.name in (name, "") else None


def describe(rows: dict[str, CliRow], version: str, name: str, path: str | None) -> str:
    """What the CLI's history says of one migration file, for `status`."""
    row = rows.get(version)
    if row is None:
        return "not applied by the Supabase CLI"
    if row_for(rows, version, name) is None:
        return f"the Supabase CLI recorded version {version} as {version}_{row.name} (it keys by version only)"
    if row.statements is None or path is None:
        return "applied by the Supabase CLI (no statements recorded to compare)"
    mismatch = first_mismatch(row.statements, file_statements(path))
    if mismatch is None:
        return "applied by the Supabase CLI; its recorded statements match the file"
    return f"applied by the Supabase CLI; recorded statement {mismatch.index + 1} differs from the file"


@dataclass(frozen=True, slots=True)
class Mismatch:
    index: int  # 0-based statement number
    recorded: str | None  # None: the file has more statements than the row
    in_file: str | None  # None: the row has more statements than the file

    def render(self, filename: str) -> str:
        def show(text: str | None) -> str:
            if text is None:
                return "(nothing)"
            first = " ".join(text.split())
            return repr(first if len(first) <= 120 else first[:117] + "...")

        return (f"{filename}: statement {self.index + 1} differs from what the Supabase CLI recorded: "
                f"recorded {show(self.recorded)}, file has {show(self.in_file)}")


def first_mismatch(recorded: tuple[str, ...], in_file: list[str]) -> Mismatch | None:
    for index in range(max(len(recorded), len(in_file))):
        old = recorded[index] if index < len(recorded) else None
        new = in_file[index] if index < len(in_file) else None
        if old != new:
            return Mismatch(index, old, new)
    return None


# --- the CLI's statement split (pkg/parser in the Supabase CLI) ---
#
# The CLI cuts a file at every `;` outside quotes, comments, dollar quotes,
# parentheses and BEGIN ATOMIC bodies, keeps comments and blank lines inside a
# statement, strips the trailing `;` and surrounding white space, and drops
# empty pieces. It is a small state machine over the file's bytes, reproduced
# here state for state so that a file's statements compare equal to the
# recorded ones (the tests check it against the real CLI's rows). Like the
# CLI, it steps one byte at a time: the lead byte of a multi-byte character is
# read as that character, each continuation byte as U+FFFD (so a dollar-quote
# tag ends at a non-ASCII letter there, too).

# Go's unicode.IsSpace (strings.TrimSpace), which differs from str.isspace.
_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"
_INVALID = "\ufffd"


def split_statements(text: str) -> list[str]:
    """The statements `supabase db push` records for a file's text."""
    data = text.encode("utf-8")
    statements: list[str] = []
    state: _State = _Ready()
    start = 0
    for index in range(len(data)):
        char, width = _rune_at(data, index)
        following = state.next(char, data, start, index + width)
        if following is None:  # an unquoted `;`: the statement ends here
            _keep(statements, data[start:index + 1])
            start = index + 1
            state = _Ready()
        else:
            state = following
    _keep(statements, data[start:])
    return statements


def _rune_at(data: bytes, index: int) -> tuple[str, int]:
    lead = data[index]
    if lead < 0x80:
        return chr(lead), 1
    width = 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4 if lead >> 3 == 0b11110 else 0
    if width == 0:  # a continuation byte
        return _INVALID, 1
    try:
        return data[index:index + width].decode("utf-8"), width
    except UnicodeDecodeError:
        return _INVALID, 1


def _keep(statements: list[str], piece: bytes) -> None:
    trimmed = piece.decode("utf-8", errors="replace").rstrip(";").strip(_GO_SPACE)
    if trimmed:
        statements.append(trimmed)


class _State:
    def next(self, char: str, data: bytes, start: int, end: int) -> _State | None:
        """The state after `char`, which ends at byte `end`; None ends the
        statement. `data[start:end]` is the statement so far."""
        raise NotImplementedError


class _Ready(_State):
    def next(self, char: str, data: bytes, start: int, end: int) -> _State | None:
        if char == "$":
            return _Tag(end - 1)
        if char in ("'", '"'):
            return _Quote(char)
        if char == "-":
            return _Comment()
        if char == "/":
            return _Block()
        if char == "\\":
            return _Escape()
        if char == ";":
            return None
        if char == "(":
            return _Atomic(self, b")")
        if char in ("c", "C"):
            word = end - len(b"ATOMIC")
            if word > start and data[word:end].upper() == b"ATOMIC" and chr(data[word - 1]) in _GO_SPACE:
                return _Atomic(self, b"END")
        return self


def _window(data: bytes, start: int, end: int, size: int) -> bytes:
    return data[max(start, end - size):end]


class _Comment(_State):
    """After one `-`: a second makes a line comment, anything else is ordinary."""

    def next(self, char: str, data: bytes, start: int, end: int) -> _State | None:
        if char == "-":
            return _Dollar(b"\n")  # nothing is escaped in a line comment, as in a dollar quote
        return _Ready().next(char, data, start, end)


class _Block(_State):
    """After a `/`: `/*` opens a (nestable) block comment."""

    def __init__(self) -> None:
        self.depth = 0

    def next(self, char: str, data: bytes, start: int, end: int) -> _State | None:
        window = _window(data, start, end, 2)
        if window == b"/*":
            self.depth += 1
            return self
        if self.depth == 0:
            return _Ready().next(char, data, start, end)
        if window == b"*/":
            self.depth -= 1
            if self.depth == 0:
                return _Ready()
        return self


class _Quote(_State):
    """Inside '...' or "...": a doubled delimiter stays inside."""

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self.closing = False

    def next(self, char: str, data: bytes, start: int, end: int) -> _State | None:
        if self.closing:
            if char == self.delimiter:
                self.closing = False
                return self
            return _Ready().next(char, data, start, end)
        if char == self.delimiter:
            self.closing = True
        return self


class _Dollar(_State):
    """Inside a dollar quote (or a line comment): only the delimiter ends it."""

    def __init__(self, delimiter: bytes) -> None:
        self.delimiter = delimiter

    def next(self, char: str, data: bytes, start: int, end: int) -> _State | None:
        if _window(data, start, end, len(self.delimiter)) == self.delimiter:
            return _Ready()
        return self


class _Tag(_State):
    """After a `$`: letters, digits and `_` then a `$` open a dollar quote."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def next(self, char: str, data: bytes, start: int, end: int) -> _State | None:
        if char == "$":
            return _Dollar(data[self.offset:end])
        if char.isalpha() or char.isdecimal() or char == "_":  # Go's unicode.IsLetter / IsDigit
            return self
        return _Ready().next(char, data, start, end)


class _Escape(_State):
    """After a `\\`: the next character is taken as is."""

    def next(self, char: str, data: bytes, start: int, end: int) -> _State | None:
        return _Ready()


class _Atomic(_State):
    """Inside parentheses or a BEGIN ATOMIC body: a `;` does not end the
    statement; the delimiter (`)` or END), seen outside quotes, does. (As in
    the CLI, the `)` that closes an inner parenthesis closes the outer one too.)"""

    def __init__(self, inner: _State, delimiter: bytes) -> None:
        self.inner = inner
        self.delimiter = delimiter

    def next(self, char: str, data: bytes, start: int, end: int) -> _State | None:
        following = self.inner.next(char, data, start, end)
        if following is not None:
            self.inner = following
        if isinstance(self.inner, _Ready):
            if _window(data, start, end, len(self.delimiter)).upper() == self.delimiter:
                return _Ready()
        return self

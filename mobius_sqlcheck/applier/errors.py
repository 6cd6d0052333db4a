"""Errors a user can act on: where in the file a statement failed, what the
server said, and a hint for the failures the original README's troubleshooting
lists. Every message passes through `safe_text`: a psycopg message can quote
the connection string."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from mobius_sqlcheck.connstr import MASK, redact

CANNOT_CONNECT_HINT = (
    "check the URL and credentials, that it is the transaction pooler "
    "(host aws-0-<region>.pooler.supabase.com, port 6543), and that this "
    "machine's address is allowed by the project's network restrictions"
)
PERMISSION_HINT = (
    "connect as a database role that may create tables (the `postgres` role "
    "from the project's connection string), not with an anon or service API key"
)
STORAGE_HINT = (
    "storage.buckets is missing: Storage is not enabled on this project; "
    "enable it in the Supabase dashboard (or bootstrap the platform objects "
    "on a plain PostgreSQL)"
)
INSUFFICIENT_PRIVILEGE = "42501"
UNDEFINED_TABLE = "42P01"
INVALID_SCHEMA = "3F000"


def safe_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Redact passwords, including the known ones wherever they appear."""
    text = redact(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


LOCAL_CANNOT_CONNECT_HINT = (
    "check the URL and credentials, and that the server (or the pooler) runs on this machine "
    "and listens on that port"
)


def connect_failure_message(error: psycopg.Error, display: str, secrets: tuple[str, ...], local: bool = False) -> str:
    """`local`: every host of the URL is loopback or a Unix socket, where the
    Supabase pooler hint would only mislead."""
    reason = " ".join(str(error).split())
    hint = LOCAL_CANNOT_CONNECT_HINT if local else CANNOT_CONNECT_HINT
    return safe_text(f"cannot connect to {display}: {reason}\n  hint: {hint}", secrets)


def hint_for(error: psycopg.Error) -> str | None:
    sqlstate = error.sqlstate or ""
    message = (error.diag.message_primary or "").lower()
    if sqlstate == INSUFFICIENT_PRIVILEGE:
        return PERMISSION_HINT
    if sqlstate in (UNDEFINED_TABLE, INVALID_SCHEMA) and "storage" in message:
        return STORAGE_HINT
    if isinstance(error, psycopg.OperationalError) and error.sqlstate is None:
        return CANNOT_CONNECT_HINT
    return None


@dataclass(frozen=True)
class StatementFailure:
    """A statement of a migration file that the server rejected."""

    path: str
    line: int
    column: int
    message: str
    sqlstate: str | None
    detail: str | None
    hint: str | None

    def render(self) -> str:
        lines = [f"{self.path}:{self.line}:{self.column}: {self.message}"]
        if self.detail:
            lines.append(f"  detail: {self.detail}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path, "line": self.line, "column": self.column, "message": self.message,
            "sqlstate": self.sqlstate, "detail": self.detail, "hint": self.hint,
        }


def error_offset(error: psycopg.Error) -> int | None:
    """0-based character offset of the error in the text sent, if the server gave one."""
    position = error.diag.statement_position
    if position and position.isdigit():
        return int(position) - 1
    return None


def describe(error: psycopg.Error, secrets: tuple[str, ...]) -> tuple[str, str | None, str | None]:
    """(message, detail, hint), each safe to print."""
    message = error.diag.message_primary or str(error).strip() or type(error).__name__
    detail = error.diag.message_detail
    server_hint = error.diag.message_hint
    hint = hint_for(error) or server_hint
    return (
        safe_text(message, secrets),
        safe_text(detail, secrets) if detail else None,
        safe_text(hint, secrets) if hint else None,
    )

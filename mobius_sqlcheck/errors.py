"""The tool's exit codes and the one error type that maps to a user-facing failure."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_CRASH = 3  # a bug; never 0
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C)
EXIT_TERMINATED = 143  # SIGTERM (CI runners, Kubernetes)


class UsageError(Exception):
    """Bad usage or configuration: printed as one line, exit code 2."""


class OperationFailed(Exception):
    """A command could not do its job (e.g. a migration failed): exit code 1.
    The message must already be safe to print (no passwords)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt, so
    psycopg answers it the same way: a cancel request for the running query."""

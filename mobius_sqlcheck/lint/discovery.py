"""Which of the paths the user gave are migrations directories (linted as a
whole, since order and history matter, but reported only for the files
given), loose SQL files (syntax-checked) and other text files (the text
rules, such as the connection-string scan)."""

from __future__ import annotations

import os

from mobius_sqlcheck.config import Config
from mobius_sqlcheck.migrations import is_migrations_directory, list_sql_files

# Directories never worth walking into when a directory is given.
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
              ".hypothesis", ".tox", "build", "dist", ".mobius_sqlcheck_cache"}
# Files scanned by the text rules when found by walking a directory.
_TEXT_SUFFIXES = (".env", ".yaml", ".yml", ".toml", ".py", ".sh", ".bash", ".md", ".json", ".ini",
                  ".cfg", ".conf", ".txt", ".js", ".ts", ".properties", ".tf", ".example")


def classify_paths(paths: list[str], config: Config) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Split the user's paths into migrations directories (with the files to
    report), loose SQL files and other text files."""
    migration_dirs: dict[str, list[str]] = {}
    directory_of: dict[str, str] = {}  # absolute directory -> spelling used first
    sql_files: list[str] = []
    text_files: list[str] = []

    absolute_of: dict[str, str] = {}  # a directory's spelling -> its absolute path (a walk gives thousands)

    def add_sql(path: str) -> None:
        directory = _owning_directory(path)
        absolute = absolute_of.get(directory)
        if absolute is None:
            absolute = absolute_of[directory] = os.path.abspath(directory or ".")
        if absolute not in directory_of:
            if not is_migrations_directory(directory or ".", list(config.migration_directories)):
                sql_files.append(path)
                return
            directory_of[absolute] = directory
        migration_dirs.setdefault(directory_of[absolute], []).append(path)

    for path in paths:
        if os.path.isdir(path) and not path.lower().endswith(".sql"):
            for found in _walk(path):
                (add_sql if found.lower().endswith(".sql") else text_files.append)(found)
        elif path.lower().endswith(".sql"):
            add_sql(path)
        else:
            text_files.append(path)
    return migration_dirs, sql_files, text_files


# A migration that is a directory of its own (diesel, Prisma): its files
# belong to the migrations directory above it.
_DIRECTORY_MIGRATION_FILES = {"up.sql": "up.sql", "down.sql": "up.sql", "migration.sql": "migration.sql"}


def _owning_directory(path: str) -> str:
    directory = os.path.dirname(path)
    marker = _DIRECTORY_MIGRATION_FILES.get(os.path.basename(path).lower())
    if marker and os.path.isfile(os.path.join(directory or ".", marker)):
        return os.path.dirname(directory)
    return directory


def _walk(directory: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.lower().endswith(".sql") or name.lower().endswith(_TEXT_SUFFIXES) or name.startswith(".env"):
                found.append(os.path.join(root, name))
    return found


def context_paths(directory: str, given: list[str]) -> list[str]:
    """Every .sql file of the directory, spelled like the files the user gave,
    and every path given (a directory named `x.sql` is not listed, but was
    given: it is reported as unreadable, not silently skipped)."""
    by_name = {os.path.basename(path): path for path in given}
    listed = [by_name.pop(os.path.basename(path), path) for path in list_sql_files(directory or ".")]
    return listed + list(by_name.values())

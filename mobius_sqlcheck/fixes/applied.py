"""Which migrations a database records as applied, for `lint --fix`.

Read, never written, from the histories `status` reads: mobius_sqlcheck's
own table and the Supabase CLI's `supabase_migrations.schema_migrations`.
The URL's password is never printed (errors name the database by its
scrubbed display form).
"""

from __future__ import annotations

from typing import NamedTuple

from mobius_sqlcheck.migrations import MigrationFile


class Applied(NamedTuple):
    ours: frozenset[tuple[str, str]]  # (version, name) in mobius_sqlcheck's history
    cli: dict  # the Supabase CLI's rows by version (applier.supabase_history.CliRow)
    database: str  # the URL without its password

    def where(self, migration: MigrationFile) -> str:
        """Which history records `migration` (a forward one) as applied; "" if none does."""
        from mobius_sqlcheck.applier import supabase_history

        if (migration.version, migration.name) in self.ours:
            return f"the migration history of {self.database}"
        if supabase_history.row_for(self.cli, migration.version, migration.name) is not None:
            return f"the Supabase CLI's history of {self.database}"
        return ""


def read_applied(url: str) -> Applied:
    """The applied migrations of the database at `url` (OperationFailed when
    it cannot be read: --fix then changes nothing)."""
    from mobius_sqlcheck.applier import history, supabase_history
    from mobius_sqlcheck.applier.database import Database, make_target

    target = make_target(url)
    database = Database(target)
    try:
        with database.errors_reported("cannot read which migrations are applied"):
            conn = database.conn
            ours = frozenset(history.read_all(conn)) if history.exists(conn) else frozenset()
            cli = supabase_history.read_all(conn)
    finally:
        database.close()
    return Applied(ours, cli, target.display)

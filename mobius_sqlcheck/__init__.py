"""mobius_sqlcheck: lint, lock and apply PostgreSQL / Supabase migrations."""

__version__ = "0.1.0"

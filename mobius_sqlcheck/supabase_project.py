"""Whether a history is a Supabase project's, and what of it is the platform's.

The Supabase platform owns the `auth` and `storage` schemas (their tables,
triggers and functions are Supabase's, not the user's style), and only a
Supabase project exposes `public` through an API (MSC601). A history is a
Supabase project's when its layout is the Supabase CLI's, when a
`supabase/config.toml` sits in the directory or above it, or when its
migrations touch the platform's objects (a table, foreign key target or
storage bucket in those schemas).
"""

from __future__ import annotations

import os

PLATFORM_SCHEMAS = frozenset({"auth", "storage"})


def is_platform_schema(schema: str) -> bool:
    return schema in PLATFORM_SCHEMAS


def _has_supabase_config(directory: str) -> bool:
    # Not cached: a long-running process (an editor server) sees a config.toml created later.
    current = os.path.abspath(directory or ".")
    while True:
        if os.path.isfile(os.path.join(current, "supabase", "config.toml")) or (
                os.path.basename(current) == "supabase" and os.path.isfile(os.path.join(current, "config.toml"))):
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def is_supabase_directory(layout: str, directory: str) -> bool:
    """From the layout and the files around the directory alone (no replay)."""
    return layout == "supabase" or _has_supabase_config(directory)


def references_platform(catalog) -> bool:
    """The replayed history touches Supabase platform objects."""
    if catalog.buckets:
        return True
    # Keys and reverse links only: a snapshot's tables stay unloaded (catalog_data.LoadedRecords).
    return (any(is_platform_schema(schema) for schema, _ in catalog.tables)
            or any(is_platform_schema(schema) for schema, _ in catalog.referenced_tables()))


def is_supabase_history(migration_set, catalog) -> bool:
    return is_supabase_directory(migration_set.layout, migration_set.directory) or references_platform(catalog)

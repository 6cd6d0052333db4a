"""A text snapshot of schema `public` (and storage.buckets) from the system
catalogs, fine-grained enough that two snapshots are equal only if the
schemas are: `apply --ephemeral` compares the first apply with the re-apply
after a full rollback, and the rolled-back state with the starting state."""

from __future__ import annotations

import psycopg

QUERIES: dict[str, str] = {
    "columns": """
        SELECT format('%s.%s %s%s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                      CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                      coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''))
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p')""",
    "relations": """
        SELECT format('%s kind=%s rls=%s comment=%s', c.relname, c.relkind, c.relrowsecurity,
                      obj_description(c.oid, 'pg_class'))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p', 'S')""",
    "column comments": """
        SELECT format('%s.%s: %s', c.relname, a.attname, col_description(c.oid, a.attnum))
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND a.attnum > 0 AND col_description(c.oid, a.attnum) IS NOT NULL""",
    "constraints": """
        SELECT format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    "indexes": "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "triggers": """
        SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal""",
    "functions": """
        SELECT pg_get_functiondef(p.oid) FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')""",
    "policies": """
        SELECT format('%s.%s %s %s using=%s check=%s', tablename, policyname, cmd, roles, qual, with_check)
        FROM pg_policies WHERE schemaname = 'public'""",
    "types": """
        SELECT format('%s %s', t.typname, t.typtype) FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c')
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)""",
}
BUCKETS = """
    SELECT format('%s name=%s public=%s limit=%s types=%s', id, name, public, file_size_limit, allowed_mime_types)
    FROM storage.buckets"""


def take(conn: psycopg.Connection) -> dict[str, list[str]]:
    snapshot = {name: sorted(str(row[0]) for row in conn.execute(query).fetchall()) for name, query in QUERIES.items()}
    has_buckets = conn.execute("SELECT to_regclass('storage.buckets') IS NOT NULL").fetchone()
    if has_buckets and has_buckets[0]:
        snapshot["storage buckets"] = sorted(str(row[0]) for row in conn.execute(BUCKETS).fetchall())
    return snapshot


def differences(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """Human-readable lines: `- <category>: <item>` only in before, `+` only in after."""
    lines = []
    for category in sorted(set(before) | set(after)):
        old, new = set(before.get(category, [])), set(after.get(category, []))
        lines += [f"- {category}: {item}" for item in sorted(old - new)]
        lines += [f"+ {category}: {item}" for item in sorted(new - old)]
    return lines

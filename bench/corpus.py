"""Deterministic generator of realistic Supabase-style migrations, for benchmarks.

Why generated and not collected: timings are only comparable between commits
(and between machines) if the input is the same byte for byte, and a real
project's history cannot be shipped. So the corpus is built from a fixed seed,
but shaped like what the linter meets in practice: wide tables with foreign
keys to earlier migrations, CHECK constraints, partial and unique indexes,
dollar-quoted plpgsql (whose `BEGIN` must not look like transaction control),
triggers, row level security, policies, storage buckets, non-ASCII comments
(so column counting in code points is exercised) and rollback files.

Each forward migration `NNNN_name.sql` gets `NNNN_name_rollback.sql` (unless
`--no-rollbacks`), which drops what the forward file created, with IF EXISTS,
in reverse creation order: an object only ever depends on objects created
before it, so reverse order is dependency order. The corpus is meant to lint
almost clean under the default rules, so a benchmark measures the linter's
work rather than the cost of printing thousands of findings.

    python -m bench.corpus --out bench/out/corpus          # 2000 migrations
    python -m bench.corpus --out /tmp/c --files 100 --seed 7 --no-rollbacks
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_FILES = 2000
DEFAULT_SEED = 20240601
MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1, in bytes

NOUNS = [
    "profiles", "courses", "lessons", "enrollments", "orders", "invoices", "payments",
    "subscriptions", "teams", "memberships", "projects", "tasks", "comments", "attachments",
    "notifications", "messages", "threads", "channels", "events", "tickets", "products",
    "categories", "reviews", "ratings", "badges", "achievements", "quizzes", "questions",
    "answers", "submissions", "grades", "certificates", "schedules", "sessions", "rooms",
    "devices", "addresses", "shipments", "coupons", "carts", "wishlists", "playlists",
    "videos", "articles", "tags", "feeds", "reports", "audits", "exports", "imports",
    "webhooks", "integrations", "invitations", "organizations", "workspaces", "documents",
    "folders", "snippets", "releases", "milestones",
]
PREFIXES = ["", "", "", "user_", "team_", "course_", "org_", "public_", "draft_", "archived_", "learning_", "billing_"]

# (column name, type); each table draws its extra columns from this pool.
COLUMN_POOL = [
    ("title", "text"), ("name", "text"), ("description", "text"), ("status", "text"),
    ("slug", "text"), ("email", "text"), ("phone", "varchar(32)"), ("locale", "varchar(8)"),
    ("amount_cents", "bigint"), ("quantity", "integer"), ("position", "integer"),
    ("score", "numeric(6, 2)"), ("price", "numeric(12, 2)"), ("rating", "smallint"),
    ("is_active", "boolean"), ("is_public", "boolean"), ("metadata", "jsonb"),
    ("settings", "jsonb"), ("tags", "text[]"), ("ip_address", "inet"), ("duration", "interval"),
    ("latitude", "double precision"), ("longitude", "double precision"), ("birth_date", "date"),
    ("due_date", "date"), ("published_at", "timestamptz"), ("archived_at", "timestamptz"),
    ("deleted_at", "timestamptz"), ("external_id", "uuid"), ("checksum", "bytea"),
    ("revision", "integer"), ("color", "varchar(7)"), ("url", "text"), ("notes", "text"),
    ("currency", "char(3)"), ("timezone", "text"), ("starts_at", "timestamptz"),
    ("ends_at", "timestamptz"), ("visits", "bigint"), ("weight_grams", "integer"),
    ("summary", "text"), ("body", "text"), ("avatar_path", "text"), ("source", "text"),
    ("priority", "smallint"), ("completed_at", "timestamptz"), ("expires_at", "timestamptz"),
]

# Values only ever inserted inside single-quoted literals: no quote characters.
NON_ASCII_TEXT = [
    "Données des élèves, à vérifier avant la rentrée",
    "Übersicht der Prüfungsergebnisse für Lehrkräfte",
    "日本語のコメント: 学習データの集計",
    "🚀 lancement de la fonctionnalité",
    "Café ☕ und Müsli 🥣 pour la cantine",
    "São Paulo região 🇧🇷 — relatório mensal",
    "Ñandú, naïve façade ✓",
    "Ελληνικά: σημειώσεις μαθήματος",
    "Заметки преподавателя 📚",
    "한국어 설명: 수강 신청 📝",
]

STATUSES = ["pending", "active", "archived", "failed", "completed", "cancelled"]
MIME_TYPES = [
    "image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf", "video/mp4",
    "audio/mpeg", "text/csv", "application/zip", "text/plain",
]
BUCKET_KINDS = ["avatars", "course_media", "exports", "attachments", "certificates"]
TRIGGER_PURPOSES = ["audit", "notify", "touch_parent", "validate", "sync_search"]
DOLLAR_TAGS = ["$$", "$function$", "$body$"]
# Timestamps that mean "when it happened": a DEFAULT now() would be a bug.
NO_DEFAULT = ("deleted_at", "archived_at", "completed_at", "expires_at", "ends_at")


@dataclass
class Table:
    """What later migrations need to know about a table created earlier."""

    name: str
    pk_type: str
    columns: list[str]
    indexes: list[str] = field(default_factory=list)
    trigger_purposes: list[str] = field(default_factory=list)


@dataclass
class Migration:
    """One forward file in the making; `rollback` is kept in drop order."""

    name: str
    forward: list[str] = field(default_factory=list)
    rollback: list[str] = field(default_factory=list)
    no_transaction: bool = False

    def add(self, create: str, drop: str | None = None) -> None:
        """Append a forward statement; its drop goes first, so drops run in reverse creation order."""
        self.forward.append(create)
        if drop is not None:
            self.rollback.insert(0, drop)


@dataclass
class History:
    """Objects created so far across the whole corpus, so names stay unique and FKs point backwards."""

    tables: list[Table] = field(default_factory=list)
    table_names: set[str] = field(default_factory=set)
    bucket_count: int = 0


def fits(name: str) -> bool:
    """PostgreSQL silently truncates longer identifiers; the corpus must never rely on that."""
    return len(name.encode("utf-8")) <= MAX_IDENTIFIER


def sql_text(value: str) -> str:
    """A single-quoted SQL literal (the pools contain no quotes, but stay safe)."""
    return "'" + value.replace("'", "''") + "'"


def new_table_name(rng: random.Random, history: History) -> str:
    """A unique snake_case table name short enough for every derived identifier."""
    base = rng.choice(PREFIXES) + rng.choice(NOUNS)
    name, n = base, 2
    while name in history.table_names:
        name, n = f"{base}_{n}", n + 1
    history.table_names.add(name)
    return name


def column_default(rng: random.Random, name: str, sql_type: str) -> str:
    """A DEFAULT clause (or none) for a column of a new table: now(), gen_random_uuid() or a literal."""
    if rng.random() < 0.5 or name in NO_DEFAULT:
        return ""
    if name == "status":
        return " DEFAULT 'pending'"
    if sql_type == "timestamptz":
        return " DEFAULT now()"
    if sql_type == "uuid":
        return " DEFAULT gen_random_uuid()"
    if sql_type == "boolean":
        return rng.choice([" DEFAULT false", " DEFAULT true"])
    if sql_type in ("integer", "bigint", "smallint"):
        return " DEFAULT 0"
    if sql_type == "jsonb":
        return " DEFAULT '{}'::jsonb"
    if sql_type == "text[]":
        return " DEFAULT '{}'"
    if sql_type == "text":
        return " DEFAULT ''"
    return ""


def column_check(table: str, name: str, sql_type: str) -> str | None:
    """A named CHECK constraint for the columns where one is natural, or None."""
    checks = {
        "amount_cents": "amount_cents >= 0",
        "quantity": "quantity > 0",
        "rating": "rating BETWEEN 1 AND 5",
        "priority": "priority BETWEEN 0 AND 10",
        "status": "status IN (" + ", ".join(sql_text(s) for s in STATUSES) + ")",
        "title": "char_length(title) <= 200",
        "email": "email ~* '^[^@]+@[^@]+$'",
        "color": "color ~ '^#[0-9a-f]{6}$'",
        "latitude": "latitude BETWEEN -90 AND 90",
        "currency": "currency ~ '^[A-Z]{3}$'",
    }
    expression = checks.get(name)
    constraint = f"{table}_{name}_check"
    if expression is None or not fits(constraint):
        return None
    return f"    CONSTRAINT {constraint} CHECK ({expression})"


def create_table(rng: random.Random, history: History, migration: Migration) -> Table:
    """CREATE TABLE with 5-30 columns, FKs to earlier tables, checks, indexes, RLS, policies, comments."""
    name = new_table_name(rng, history)
    pk_type = "uuid" if rng.random() < 0.8 else "bigint"
    width = rng.randint(5, 30)
    if pk_type == "uuid":
        lines = ["    id uuid PRIMARY KEY DEFAULT gen_random_uuid()"]
    else:
        lines = ["    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"]
    columns = ["id"]
    checks: list[str] = []
    has_user = rng.random() < 0.6
    if has_user:
        lines.append("    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE")
        columns.append("user_id")
    earlier = rng.sample(history.tables, k=min(len(history.tables), rng.randint(0, 3)))
    for parent in earlier:
        fk = f"{parent.name}_id"
        if fk in columns or not fits(fk):
            continue
        action = rng.choice(["ON DELETE CASCADE", "ON DELETE SET NULL", "ON DELETE RESTRICT"])
        not_null = " NOT NULL" if action != "ON DELETE SET NULL" and rng.random() < 0.5 else ""
        lines.append(f"    {fk} {parent.pk_type}{not_null} REFERENCES public.{parent.name} (id) {action}")
        columns.append(fk)
    for col, sql_type in rng.sample(COLUMN_POOL, k=max(0, width - len(columns) - 2)):
        not_null = " NOT NULL" if rng.random() < 0.3 else ""
        lines.append(f"    {col} {sql_type}{not_null}{column_default(rng, col, sql_type)}")
        columns.append(col)
        check = column_check(name, col, sql_type)
        if check is not None and rng.random() < 0.7:
            checks.append(check)
    lines.append("    created_at timestamptz NOT NULL DEFAULT now()")
    lines.append("    updated_at timestamptz NOT NULL DEFAULT now()")
    columns += ["created_at", "updated_at"]
    if_not_exists = "IF NOT EXISTS " if rng.random() < 0.3 else ""
    body = ",\n".join(lines + checks)
    migration.add(
        f"-- {rng.choice(NON_ASCII_TEXT)}\nCREATE TABLE {if_not_exists}public.{name} (\n{body}\n);",
        f"DROP TABLE IF EXISTS public.{name};",
    )
    table = Table(name=name, pk_type=pk_type, columns=columns)
    add_table_indexes(rng, table, migration)
    migration.add(f"ALTER TABLE public.{name} ENABLE ROW LEVEL SECURITY;")
    if has_user:
        add_owner_policies(table, migration)
    add_comments(rng, table, migration)
    if rng.random() < 0.6:
        add_updated_at_trigger(rng, table, migration)
    history.tables.append(table)
    return table


def index_statement(
    table: Table, cols: list[str], unique: bool, where: str, concurrently: bool = False
) -> tuple[str, str] | None:
    """CREATE INDEX idx_<table>_<cols> and its drop, or None if the name would be too long or taken."""
    suffix = "_".join(cols) + ("_unique" if unique else "")
    index = f"idx_{table.name}_{suffix}"
    if not fits(index) or index in table.indexes:
        return None
    table.indexes.append(index)
    kind = "UNIQUE INDEX" if unique else "INDEX"
    how = "CONCURRENTLY IF NOT EXISTS " if concurrently else ""
    predicate = f"\nWHERE {where}" if where else ""
    create = f"CREATE {kind} {how}{index} ON public.{table.name} ({', '.join(cols)}){predicate};"
    drop = f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS public.{index};"
    return create, drop


def add_table_indexes(rng: random.Random, table: Table, migration: Migration) -> None:
    """Indexes a real table gets: foreign keys, owner + time, partial on soft delete, unique natural keys."""
    candidates: list[tuple[list[str], bool, str]] = []
    for col in table.columns:
        if col.endswith("_id") and col != "external_id":
            candidates.append(([col], False, ""))
    if "user_id" in table.columns:
        candidates.append((["user_id", "created_at"], False, ""))
    if "deleted_at" in table.columns:
        candidates.append((["created_at"], False, "deleted_at IS NULL"))
    if "is_active" in table.columns:
        candidates.append((["updated_at"], False, "is_active"))
    for natural_key in ("slug", "email", "external_id"):
        if natural_key in table.columns:
            candidates.append(([natural_key], True, "deleted_at IS NULL" if "deleted_at" in table.columns else ""))
    if "status" in table.columns:
        candidates.append((["status"], False, "status <> 'archived'"))
    for cols, unique, where in candidates:
        if rng.random() < 0.75:
            statement = index_statement(table, cols, unique, where)
            if statement is not None:
                migration.add(*statement)


def add_owner_policies(table: Table, migration: Migration) -> None:
    """Supabase's usual owner-only policies; dropped explicitly because rollbacks must be complete."""
    for action, clause in (("select", "USING"), ("insert", "WITH CHECK")):
        policy = f"{table.name}_{action}_own"
        if not fits(policy):
            continue
        migration.add(
            f"CREATE POLICY {policy} ON public.{table.name}\n"
            f"    FOR {action.upper()} TO authenticated\n"
            f"    {clause} ((SELECT auth.uid()) = user_id);",
            f"DROP POLICY IF EXISTS {policy} ON public.{table.name};",
        )


def add_comments(rng: random.Random, table: Table, migration: Migration) -> None:
    """COMMENT ON with non-ASCII text, the most common place for it in real migrations."""
    migration.add(f"COMMENT ON TABLE public.{table.name} IS {sql_text(rng.choice(NON_ASCII_TEXT))};")
    for col in rng.sample(table.columns, k=min(2, len(table.columns))):
        migration.add(f"COMMENT ON COLUMN public.{table.name}.{col} IS {sql_text(rng.choice(NON_ASCII_TEXT))};")


def plpgsql_function(rng: random.Random, name: str, body: list[str], security_definer: bool) -> str:
    """A dollar-quoted trigger function with a fixed empty search_path, as Supabase recommends."""
    tag = rng.choice(DOLLAR_TAGS)
    definer = "SECURITY DEFINER\n" if security_definer else ""
    code = "\n".join(f"    {line}" for line in body)
    return (
        f"CREATE OR REPLACE FUNCTION public.{name}()\n"
        "RETURNS trigger\n"
        "LANGUAGE plpgsql\n"
        f"{definer}"
        "SET search_path = ''\n"
        f"AS {tag}\n"
        "BEGIN\n"
        f"{code}\n"
        "END;\n"
        f"{tag};"
    )


def add_trigger(
    rng: random.Random, table: Table, migration: Migration, purpose: str, timing: str, body: list[str]
) -> None:
    """A function plus its trigger named <table>_<purpose>_trigger; the trigger is dropped first."""
    function = f"{table.name}_{purpose}"
    trigger = f"{table.name}_{purpose}_trigger"
    if not fits(trigger) or purpose in table.trigger_purposes:
        return
    table.trigger_purposes.append(purpose)
    definer = purpose in ("audit", "notify")
    migration.add(
        plpgsql_function(rng, function, body, definer),
        f"DROP FUNCTION IF EXISTS public.{function}();",
    )
    migration.add(
        f"CREATE TRIGGER {trigger}\n"
        f"    {timing} ON public.{table.name}\n"
        f"    FOR EACH ROW EXECUTE FUNCTION public.{function}();",
        f"DROP TRIGGER IF EXISTS {trigger} ON public.{table.name};",
    )


def add_updated_at_trigger(rng: random.Random, table: Table, migration: Migration) -> None:
    """The updated_at trigger almost every Supabase table has."""
    body = ["NEW.updated_at := now();", "RETURN NEW;"]
    add_trigger(rng, table, migration, "updated_at", "BEFORE UPDATE", body)


def trigger_body(purpose: str, table: Table) -> list[str]:
    """A plausible plpgsql body per purpose, with IF blocks and string literals to lex."""
    if purpose == "audit":
        return [
            "INSERT INTO public.audit_log (table_name, row_id, action, changed_at)",
            "VALUES (TG_TABLE_NAME, NEW.id::text, TG_OP, now());",
            "RETURN NEW;",
        ]
    if purpose == "notify":
        return [
            f"PERFORM pg_notify('{table.name}_changed', json_build_object('id', NEW.id, 'op', TG_OP)::text);",
            "RETURN NEW;",
        ]
    if purpose == "validate":
        return [
            "IF NEW.updated_at < NEW.created_at THEN",
            "    RAISE EXCEPTION 'updated_at before created_at on %', TG_TABLE_NAME;",
            "END IF;",
            "RETURN NEW;",
        ]
    if purpose == "sync_search":
        return [
            "-- keeps the search document in step; see the search migration",
            "NEW.updated_at := greatest(NEW.updated_at, now());",
            "RETURN NEW;",
        ]
    return ["NEW.updated_at := now();", "RETURN NEW;"]


def add_function_trigger(rng: random.Random, history: History, migration: Migration) -> str | None:
    """A trigger on an earlier table, maybe with a SQL helper: returns its purpose, or None if none fits."""
    table = rng.choice(history.tables)
    free = [p for p in TRIGGER_PURPOSES if p not in table.trigger_purposes]
    if not free:
        return None
    purpose = rng.choice(free)
    if not fits(f"{table.name}_{purpose}_trigger"):
        return None
    timing = "AFTER INSERT OR UPDATE" if purpose in ("audit", "notify") else "BEFORE INSERT OR UPDATE"
    migration.forward.append(f"-- {rng.choice(NON_ASCII_TEXT)}")
    add_trigger(rng, table, migration, purpose, timing, trigger_body(purpose, table))
    helper = f"{table.name}_count_recent"
    if rng.random() < 0.4 and fits(helper) and "count_recent" not in table.trigger_purposes:
        table.trigger_purposes.append("count_recent")
        migration.add(
            f"CREATE OR REPLACE FUNCTION public.{helper}(p_since timestamptz)\n"
            "RETURNS bigint\n"
            "LANGUAGE sql\n"
            "STABLE\n"
            "SET search_path = ''\n"
            "AS $$\n"
            f"    SELECT count(*) FROM public.{table.name} WHERE created_at >= p_since\n"
            "$$;",
            f"DROP FUNCTION IF EXISTS public.{helper}(timestamptz);",
        )
    return purpose


def literal_default(rng: random.Random, sql_type: str) -> str:
    """A constant default: safe on an existing table (no rewrite), unlike now() or random()."""
    if rng.random() < 0.6:
        return ""
    if sql_type in ("integer", "bigint", "smallint"):
        return " DEFAULT 0"
    if sql_type == "boolean":
        return " DEFAULT false"
    if sql_type == "text":
        return " DEFAULT ''"
    return ""


def add_columns(rng: random.Random, history: History, migration: Migration) -> str:
    """ALTER TABLE ADD COLUMN (nullable) on earlier tables, with a comment and maybe an index.

    Returns the first altered table's name, to name the migration after it.
    """
    tables = rng.sample(history.tables, k=min(len(history.tables), rng.randint(1, 2)))
    for table in tables:
        free = [(c, t) for c, t in COLUMN_POOL if c not in table.columns]
        for col, sql_type in rng.sample(free, k=min(len(free), rng.randint(1, 3))):
            table.columns.append(col)
            default = literal_default(rng, sql_type)
            migration.add(
                f"ALTER TABLE public.{table.name} ADD COLUMN IF NOT EXISTS {col} {sql_type}{default};",
                f"ALTER TABLE IF EXISTS public.{table.name} DROP COLUMN IF EXISTS {col};",
            )
            migration.add(f"COMMENT ON COLUMN public.{table.name}.{col} IS {sql_text(rng.choice(NON_ASCII_TEXT))};")
            if rng.random() < 0.3:
                statement = index_statement(table, [col], False, "")
                if statement is not None:
                    migration.add(*statement)
    return tables[0].name


def add_buckets(rng: random.Random, history: History, migration: Migration) -> None:
    """INSERT INTO storage.buckets, always bounded (size limit and mime types), deleted by id on rollback."""
    rows: list[str] = []
    ids: list[str] = []
    for _ in range(rng.randint(1, 3)):
        history.bucket_count += 1
        bucket = f"{rng.choice(BUCKET_KINDS)}_{history.bucket_count}"
        mimes = ", ".join(sql_text(m) for m in rng.sample(MIME_TYPES, k=rng.randint(1, 4)))
        size = rng.choice([1048576, 5242880, 10485760, 52428800, 104857600])
        public = rng.choice(["true", "false"])
        rows.append(f"    ({sql_text(bucket)}, {sql_text(bucket)}, {public}, {size}, ARRAY[{mimes}]::text[])")
        ids.append(sql_text(bucket))
    migration.add(
        f"-- {rng.choice(NON_ASCII_TEXT)}\n"
        "INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types)\nVALUES\n"
        + ",\n".join(rows)
        + "\nON CONFLICT (id) DO NOTHING;",
        f"DELETE FROM storage.buckets WHERE id IN ({', '.join(ids)});",
    )


def add_concurrent_index(rng: random.Random, history: History, migration: Migration) -> bool:
    """CREATE INDEX CONCURRENTLY on an earlier table, in a file marked no-transaction. False if none fits."""
    table = rng.choice(history.tables)
    for col in rng.sample(table.columns, k=len(table.columns)):
        statement = index_statement(table, [col], False, "", concurrently=True)
        if statement is not None:
            migration.no_transaction = True
            migration.add(*statement)
            return True
    return False


def build_migration(rng: random.Random, history: History) -> Migration:
    """Pick what this migration does, weighted like a real project's history, and build it."""
    kind = rng.choices(
        ["create", "alter", "trigger", "storage", "concurrent", "mixed"], weights=[45, 20, 15, 10, 5, 5]
    )[0]
    if not history.tables:
        kind = "create"
    migration = Migration(name="")
    if kind == "create":
        first = create_table(rng, history, migration)
        if rng.random() < 0.3:
            create_table(rng, history, migration)
        migration.name = f"create_{first.name}"
    elif kind == "alter":
        migration.name = f"add_columns_to_{add_columns(rng, history, migration)}"
    elif kind == "trigger":
        purpose = add_function_trigger(rng, history, migration)
        migration.name = f"add_{purpose}_trigger" if purpose else "storage_buckets"
    elif kind == "storage":
        add_buckets(rng, history, migration)
        migration.name = "storage_buckets"
    elif kind == "concurrent":
        migration.name = "concurrent_index"
        if not add_concurrent_index(rng, history, migration):
            add_buckets(rng, history, migration)
            migration.name = "storage_buckets"
    else:
        table = create_table(rng, history, migration)
        add_buckets(rng, history, migration)
        migration.name = f"create_{table.name}_with_storage"
    if not migration.rollback:  # every trigger purpose already taken: still a real, non-empty file
        add_buckets(rng, history, migration)
    return migration


def render(migration: Migration, version: str, statements: list[str], rollback: bool) -> str:
    """File text: a header comment, the no-transaction directive if needed, statements, final newline."""
    kind = "Rollback of" if rollback else "Migration"
    header = [f"-- {kind} {version}: {migration.name.replace('_', ' ')}"]
    if migration.no_transaction:
        header.append("-- mobius-sqlcheck: no-transaction")
    return "\n".join(header) + "\n\n" + "\n\n".join(statements) + "\n"


def generate(
    out_dir: str | Path, files: int = DEFAULT_FILES, seed: int = DEFAULT_SEED, rollbacks: bool = True
) -> list[str]:
    """Write `files` forward migrations (plus their rollbacks) into out_dir; return the written paths.

    Refuses a directory that already holds .sql files: mixing two corpora would
    silently change what a benchmark measures.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*.sql")):
        raise FileExistsError(f"{out} already contains .sql files; use an empty directory")
    rng = random.Random(seed)
    history = History()
    width = max(4, len(str(files)))
    written: list[str] = []
    for number in range(1, files + 1):
        migration = build_migration(rng, history)
        version = f"{number:0{width}d}"
        forward = out / f"{version}_{migration.name}.sql"
        forward.write_text(render(migration, version, migration.forward, False), encoding="utf-8", newline="\n")
        written.append(str(forward))
        if rollbacks:
            back = out / f"{version}_{migration.name}_rollback.sql"
            back.write_text(render(migration, version, migration.rollback, True), encoding="utf-8", newline="\n")
            written.append(str(back))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description="Generate a benchmark corpus.")
    parser.add_argument("--out", required=True, type=Path, help="directory to write into (must hold no .sql files)")
    parser.add_argument("--files", type=int, default=DEFAULT_FILES, help="forward migrations (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument(
        "--rollbacks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write NNNN_name_rollback.sql files (default: yes)",
    )
    args = parser.parse_args(argv)
    written = generate(args.out, args.files, args.seed, args.rollbacks)
    print(f"wrote {len(written)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

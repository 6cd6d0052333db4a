"""A Postgres connection string that bypasses the transaction pooler.

## What it does
Scans text files that are not migrations (`.env`, YAML, TOML, Python, shell,
Markdown, ...) for PostgreSQL connection strings, in URI form
(`postgres://`, `postgresql://`, also `postgresql+psycopg://`) and libpq
key=value form (`host=... port=...`), and reports each one that does not go
through the pooler port (`pooler_port`, default 6543): another port, no port
at all (libpq then uses 5432), or Supabase's direct host
`db.<project-ref>.supabase.co`. Loopback hosts and Unix sockets are exempt
(`allowed_hosts`, default localhost, 127.0.0.1, ::1). Placeholders such as
`[password]`, `<port>`, `${DB_PORT}` or `{{ port }}` are not findings, and
prose that mentions port 5432 is not a connection string. The message shows
the string with its password replaced by `***`. A line is exempted by a
comment in that file's syntax on it or on the line before:
`# mobius-sqlcheck: ignore MSC501 <reason>` (`//` and `<!-- -->` too).

## Why is this bad?
When your project runs on serverless functions, each instance opens its
own connections. Direct connections (port 5432) count against Postgres's
`max_connections` and run out under load; the transaction pooler (Supavisor
on 6543) multiplexes them. One forgotten `.env.production` with 5432 is
enough for an outage.

## Example
```text
DATABASE_URL=postgresql://postgres:<password>@db.abcdefghij.supabase.co:5432/postgres
```

## Use instead
```text
DATABASE_URL=postgresql://postgres.abcdefghij:<password>@aws-0-eu-west-1.pooler.supabase.com:6543/postgres
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck.context import TextContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC501"
NAME = "direct-connection"
SEVERITY = "error"
HINT = ("Use the Supabase transaction pooler: postgresql://postgres.<project-ref>:<password>"
        "@aws-0-<region>.pooler.supabase.com:6543/postgres")


def check_text(ctx: TextContext) -> Iterator[Finding]:
    text = ctx.source.text
    if "postgres" not in text and "host" not in text:
        return  # neither form can occur: skip the scan
    # Imported here: connstr compiles many patterns, and migrations never need it.
    from mobius_sqlcheck.connstr import find_connection_strings

    config = ctx.config
    for found in find_connection_strings(text, config.pooler_port, tuple(config.allowed_hosts)):
        if not found.problems:
            continue
        yield Finding(f"connection string {found.redacted} bypasses the transaction pooler: {'; '.join(found.problems)}",
                      ctx.source.byte_offset_of_char(found.start), ctx.source.byte_offset_of_char(found.end))

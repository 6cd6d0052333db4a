"""A locked migration was edited, renamed or deleted.

## What it does
Compares every file listed in the lock file (`sqlcheck.sum`) with the file on
disk and reports one whose content no longer matches its checksum, or that
no longer exists. Line ends (CRLF or LF) and a UTF-8 byte-order mark do not
count as changes.

## Why is this bad?
A locked migration may already have run on some database. Editing it changes
nothing there: the databases that applied the old text and the ones that
apply the new text drift apart, silently.

## Example
```diff
 -- 002_add_templates.sql, already locked
-CREATE TABLE templates (template_id uuid PRIMARY KEY);
+CREATE TABLE templates (template_id uuid PRIMARY KEY, body text);
```

## Use instead
```sql
-- 006_add_template_body.sql: a new migration
ALTER TABLE templates ADD COLUMN body text;
```
If the edit is deliberate (a comment, or a migration that never left your
branch), run `mobius-sqlcheck lock --force` to accept it.
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck import lockfile
from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC105"
NAME = "locked-migration-modified"
SEVERITY = "error"
HINT = ("Undo the change and put it in a new migration; if the edit is deliberate, "
        "accept it with `mobius-sqlcheck lock --force`.")


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    lock = lockfile.read_quietly(ctx.migration_set, ctx.config.lock_file)
    if lock is None:
        return
    present = {m.filename: m.path for m in ctx.migration_set.all_files()}
    sum_of = ctx.file_sums.of if ctx.file_sums is not None else lockfile.file_sum  # the bytes the run read
    for name, digest in lock.entries.items():
        path = present.get(name)
        if path is None:
            yield Finding(f"locked migration {name} was deleted or renamed",
                          path=lockfile.anchor_path(ctx.migration_set),
                          hint="Restore it: a migration that may have run somewhere stays in the history.")
        elif sum_of(path) != digest:
            yield Finding(f"{name} was modified after it was locked (checksum differs from "
                          f"{ctx.config.lock_file})", path=path)

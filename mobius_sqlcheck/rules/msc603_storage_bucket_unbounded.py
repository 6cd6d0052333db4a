"""A storage bucket left without a size limit or MIME list.

## What it does
After replaying every migration, reports each row of `storage.buckets`
created by the migrations whose `file_size_limit` or `allowed_mime_types`
is still unset (missing, NULL, or an empty list), following later `UPDATE
storage.buckets ... WHERE id = ...` statements. A value the linter cannot
compute (an expression) counts as set. The finding points at the statement
that created the row.

## Why is this bad?
Storage then accepts any file of any type up to the project-wide limit: a
client can park a 5 GB video in the `brands` bucket meant for guideline
PDFs, or an HTML file that runs script when opened from a public URL.

## Example
```sql
INSERT INTO storage.buckets (id, name, public) VALUES ('assets', 'assets', false);
```

## Use instead
```sql
INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
VALUES ('assets', 'assets', false, 10485760, ARRAY['image/png', 'image/jpeg', 'image/webp']);
```
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck.catalog import Bucket
from mobius_sqlcheck.context import HistoryContext
from mobius_sqlcheck.diagnostics import Finding

CODE = "MSC603"
NAME = "storage-bucket-unbounded"
SEVERITY = "warning"
HINT = ("Set file_size_limit (bytes) and allowed_mime_types in the INSERT, or in a later UPDATE "
        "storage.buckets ... WHERE id = '<bucket>'.")
LIMITS = ("file_size_limit", "allowed_mime_types")


def check_history(ctx: HistoryContext) -> Iterator[Finding]:
    for bucket in ctx.reportable(ctx.catalog.buckets):
        missing = [column for column in LIMITS if _unset(bucket, column)]
        if not missing or bucket.origin is None:
            continue
        yield Finding(f"storage bucket '{bucket.id}' has no {' and no '.join(missing)} after every migration: "
                      "it accepts any file up to the project-wide limit",
                      bucket.origin.offset, path=bucket.origin.path)


def _unset(bucket: Bucket, column: str) -> bool:
    value = bucket.values.get(column)
    return value is None or value == []

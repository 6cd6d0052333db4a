"""An identifier longer than 63 bytes.

## What it does
Reports any identifier, quoted or not, longer than 63 bytes in UTF-8 (so 32
`é` are already too long). PostgreSQL truncates such names silently, with
only a NOTICE.

## Why is this bad?
The object is created under a truncated name; the rollback, later migrations
and `verify` use the full name and do not find it, and two long names that
share 63 bytes collide.

## Example
```sql
CREATE INDEX idx_learning_audit_log_brand_id_and_action_and_created_at_descending
    ON learning_audit_log (brand_id, action, created_at DESC);
```

## Use instead
```sql
CREATE INDEX idx_learning_audit_log_brand_action
    ON learning_audit_log (brand_id, action, created_at DESC);
```
"""

from __future__ import annotations

import re
from typing import Iterator

from mobius_sqlcheck.context import FileContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.rules._support.identifiers import identifiers

CODE = "MSC203"
NAME = "identifier-too-long"
SEVERITY = "error"
CATALOG_FREE = True  # runs beside the replay on a long history
HINT = "Shorten the name to at most 63 bytes."
MAX_BYTES = 63
# Only a run of 64+ identifier bytes, or a long quoted name, can be too long.
# Cheap pre-filter: map identifier bytes to "a" and look for 64 in a row.
_IDENTIFIER_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$" + bytes(range(0x80, 0x100))
_AS_RUNS = bytes(b"a"[0] if byte in _IDENTIFIER_BYTES else b" "[0] for byte in range(256))
_LONG_RUN = b"a" * (MAX_BYTES + 1)
_LONG_QUOTED = re.compile(rb'"[^"\n]{64,}"')


def _may_hold_long_identifier(data: bytes) -> bool:
    return _LONG_RUN in data.translate(_AS_RUNS) or (b'"' in data and _LONG_QUOTED.search(data) is not None)


def check_file(ctx: FileContext) -> Iterator[Finding]:
    if ctx.source is None or not _may_hold_long_identifier(ctx.source.data):
        return
    for identifier in identifiers(ctx.source):
        size = len(identifier.name.encode("utf-8"))
        if size > MAX_BYTES:
            truncated = identifier.name.encode("utf-8")[:MAX_BYTES].decode("utf-8", "ignore")
            yield Finding(f"identifier is {size} bytes; PostgreSQL truncates it to {truncated!r}",
                          identifier.start, identifier.end)

"""A sqlfluff finding: layout, capitalisation or another sqlfluff rule.

## What it does
Runs sqlfluff over every SQL file of the migrations directory and reports its
findings in the same stream as the other rules, with sqlfluff's own code
first (`LT01: Expected single whitespace ...`). Off by default: switch it on
with `lint --format-check` or `format_check = true` in
`[tool.mobius_sqlcheck]`. sqlfluff reads the project's own `.sqlfluff` /
`[tool.sqlfluff]`; without a dialect there it uses postgres. Results are
cached (`.mobius_sqlcheck_cache/`), so an unchanged file is checked once.
sqlfluff's `-- noqa: LT01` comments work, and so does
`-- mobius-sqlcheck: ignore MSC005`.

## Why is this bad?
Migrations are read far more often than written: in review, during an
incident, when a rollback is written. One layout makes a diff show what
changed, not who wrote it.

## Example
```sql
create table Brands(brand_id uuid primary key,Name text);
```

## Use instead
```sql
CREATE TABLE brands (brand_id uuid PRIMARY KEY, name text);
```
`mobius-sqlcheck format migrations/` fixes what sqlfluff can fix.
"""

from __future__ import annotations

from typing import Iterator

from mobius_sqlcheck.context import MigrationsContext
from mobius_sqlcheck.diagnostics import Finding
from mobius_sqlcheck.source import SourceFile

CODE = "MSC005"
NAME = "sqlfluff-format"
SEVERITY = "off"
HINT = "Run `mobius-sqlcheck format` on the file to fix it."
_UNFIXABLE_HINT = ("sqlfluff cannot fix this automatically: change it by hand, or configure the rule "
                   "in .sqlfluff ([tool.sqlfluff]).")


def check_migrations(ctx: MigrationsContext) -> Iterator[Finding]:
    # Imported here: the formatting package is only loaded when this rule is on.
    from mobius_sqlcheck.formatting import Settings, check_texts

    # Only the files asked about: the others' findings would be dropped anyway.
    sources = {path: s for path, s in ctx.sources.items() if path in ctx.reported and isinstance(s, SourceFile)}
    texts = {path: source.text.replace("\r\n", "\n") for path, source in sources.items()}
    settings = Settings(extra_config=ctx.config.sqlfluff_config or None)
    for path, result in check_texts(texts, settings).items():
        source = sources[path]
        if result.error:
            yield Finding(f"sqlfluff could not check this file: {result.error}", path=path,
                          hint="Fix the sqlfluff configuration, or report the file to sqlfluff.")
        for v in result.violations:
            yield Finding(f"{v.code}: {v.description}", start=byte_offset(source, v.line, v.column),
                          end=byte_offset(source, v.end_line, v.end_column), path=path,
                          hint=HINT if v.fixable else _UNFIXABLE_HINT)


def byte_offset(source: SourceFile, line: int, column: int) -> int:
    """The byte offset of a 1-based line and character column."""
    starts = source.line_starts()
    start = starts[max(0, min(line, len(starts)) - 1)]
    if source.is_ascii:
        return min(start + max(0, column - 1), len(source.data))
    end = starts[line] if line < len(starts) else len(source.data)
    text = source.data[start:end].decode("utf-8", "replace")
    return start + len(text[: max(0, column - 1)].encode("utf-8"))

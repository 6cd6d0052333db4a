"""A suppression comment that suppressed nothing, or names an unknown rule.

## What it does
Reports `-- mobius-sqlcheck: ignore MSC301` (or `ignore-file`) comments that
did not suppress any finding in this run, and those naming a rule that does
not exist.

## Why is this bad?
A stale suppression hides the next real problem on that statement, and a
misspelled rule id suppresses nothing while looking as if it did.

## Example
```sql
-- mobius-sqlcheck: ignore MSC301
ALTER TABLE brands ADD COLUMN compressed_twin jsonb;  -- nullable: nothing to suppress
```

## Use instead
```sql
ALTER TABLE brands ADD COLUMN compressed_twin jsonb;
```
"""

CODE = "MSC009"
NAME = "unused-suppression"
SEVERITY = "warning"
HINT = "Remove the comment, or fix the rule id (see `mobius-sqlcheck rules`)."

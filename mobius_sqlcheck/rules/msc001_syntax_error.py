"""SQL that PostgreSQL's own parser rejects.

## What it does
Parses every file with libpg_query, the parser of PostgreSQL itself, and
reports each syntax error at the position the parser names (not at the start
of the file). The other statements of the file are still parsed and linted.

## Why is this bad?
The migration fails when it is applied, usually in CI or, worse, in
production, after earlier migrations already ran.

## Example
```sql
CREATE TABLE brands (brand_id uuid PRIMARY KEY,, name varchar(255));
```

## Use instead
```sql
CREATE TABLE brands (brand_id uuid PRIMARY KEY, name varchar(255));
```
"""

CODE = "MSC001"
NAME = "syntax-error"
SEVERITY = "error"
HINT = "Fix the SQL at this position; the rest of the file is still checked."

r"""A psql backslash command inside a migration.

## What it does
Reports lines such as `\set ON_ERROR_STOP on`, `\i other.sql` or
`\connect` at the start of a line (not inside a string or a dollar-quoted
body). The line is blanked out and the rest of the file is still linted.

It also reports `COPY ... FROM STDIN` followed by its rows (as `pg_dump`
writes them, up to a line `\.`): the statement is reported, the rows are not
read as SQL, and the rest of the file is still linted.

## Why is this bad?
Backslash commands are interpreted by the `psql` program, not by PostgreSQL.
The applier, the Supabase CLI and every driver send them to the server, which
rejects them as a syntax error. The rows after `COPY ... FROM STDIN` are
likewise sent by psql over the COPY protocol; a driver running the file
statement by statement sends them as SQL.

## Example
```sql
\set ON_ERROR_STOP on
CREATE TABLE templates (template_id uuid PRIMARY KEY);
```

## Use instead
```sql
CREATE TABLE templates (template_id uuid PRIMARY KEY);
```
"""

CODE = "MSC505"
NAME = "psql-meta-command"
SEVERITY = "error"
HINT = "Remove the line; the applier already stops at the first error and runs each file in a transaction."

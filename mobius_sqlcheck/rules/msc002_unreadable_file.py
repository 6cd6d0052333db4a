"""A file that cannot be read as UTF-8 text.

## What it does
Reports a file that is not valid UTF-8 (a UTF-8 byte-order mark is fine),
is binary (contains NUL bytes), is UTF-16, or cannot be opened. The position
is that of the first offending byte. The run goes on with the other files.

## Why is this bad?
PostgreSQL clients send migrations as UTF-8; a Latin-1 or UTF-16 file is
applied as garbage or rejected, depending on the client.

## Example
A `003_add_feedback.sql` saved by an editor as Windows-1252 with `'café'`
in a comment.

## Use instead
Save the file as UTF-8.
"""

CODE = "MSC002"
NAME = "unreadable-file"
SEVERITY = "error"
HINT = "Save the file as UTF-8 text."

"""A rule failed on a statement (a bug in mobius-sqlcheck).

## What it does
When a rule raises an exception on a statement, the run reports this
diagnostic at that statement, naming the rule, and goes on: every other
finding is still reported. It cannot be switched off: it is reported, and
the exit code is not 0, even with MSC004 in `--ignore`, `ignore` or
`severity`.

## Why is this bad?
A rule that crashed checked nothing; passing silently would let a bad
migration through.

## Example
Any statement on which a rule raised.

## Use instead
Report the bug with the statement; meanwhile, `--ignore` the rule that
failed (the one named in the message) if you must.
"""

CODE = "MSC004"
NAME = "internal-error"
SEVERITY = "error"

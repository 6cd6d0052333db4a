"""The migration applier: correct through a transaction pooler (Supabase 6543,
PgBouncer `pool_mode = transaction`).

Through such a pooler each transaction may run on a different server
connection, so nothing may rely on session state: no session SET, no session
advisory lock, no prepared statements. The applier's only unit of exclusion is
the transaction:

- each migration runs in one transaction that first takes
  `pg_advisory_xact_lock`, re-reads the history under the lock, runs the file,
  records it and commits (`runner.py`);
- a no-transaction file cannot hold that lock while it runs, so it claims a
  lease row under the lock instead, keeps it alive from a second connection,
  and every other run waits while a live lease is held (`lease.py`).

Modules: `script` (a file split into statements), `history` (the tool's own
schema), `plan` (what is applied / pending / modified / missing), `runner`,
`lease`, `locks` (who blocks a statement; a lock timeout for no-transaction
statements), `indexes` (invalid indexes), `database` (URL, policy,
connecting), `errors` (positions and hints),
`verify` (live schema vs the migrations' catalog), `ephemeral` (throwaway
servers), `output` (progress lines and JSON), `session` (what every command
needs before it runs).
"""

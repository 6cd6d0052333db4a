"""sqlfluff formatting: check (`lint --format-check`, rule MSC005) and fix
(`mobius-sqlcheck format`), with a result cache and a process pool.

sqlfluff costs about half a second to import and 35-60 ms a file, and has no
result cache of its own. So:

- nothing here imports sqlfluff except `worker`, and only when a file is not
  in the cache: the plain `lint` never pays for it, nor does a re-run over
  unchanged files;
- results are cached by file content, the effective sqlfluff configuration
  (every config file sqlfluff could read for that file), and the sqlfluff,
  plugin and mobius-sqlcheck versions (see `cache` and `fingerprint`);
- enough uncached files are spread over a process pool, one worker a core.

The user's own `.sqlfluff` / `[tool.sqlfluff]` (or setup.cfg, tox.ini) apply
as sqlfluff would read them; without a dialect there, it is postgres.
"""

from mobius_sqlcheck.formatting.runner import FileResult, Settings, Violation, check_texts, fix_texts

__all__ = ["FileResult", "Settings", "Violation", "check_texts", "fix_texts"]

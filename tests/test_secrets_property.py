"""No password in any output, for any password, and every direct connection
still reported: the property of tests/secrets_property.py, a bounded number
of examples here (scripts/fuzz.py --target secrets runs it for as long as
asked), plus the examples from the issue that broke it, each one explicit."""

from __future__ import annotations

import functools
import os

import pytest
from hypothesis import HealthCheck, given, settings

from mobius_sqlcheck.applier.ephemeral import free_port
from tests.applier.helpers import Db
from tests.secrets_property import (
    COMMANDS,
    PASSWORDS,
    call,
    check_database,
    check_lint,
    database_vocabulary,
    lint_vocabulary,
    project,
)

BOUNDED = settings(max_examples=25, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# Passwords that leaked or hid a direct connection before: a raw `#`, `@`,
# `?`, `/`, quotes, a space, a backtick, a `%` that starts no escape, non-ASCII.
ISSUE_PASSWORDS = ["xK9#mP2qL", "My@Secret", "My?Secret", "ab/cd/ef", "it's-mine", 'say "hi" now',
                   "has space here", "back`tick`", "100%pure", "pä55wörd€", "p@h:5432/x?y=z", "a'\\''b\"c",
                   # Found by the property: a `'` ends the SQL string, a rule then quoted the rest.
                   "'0001", "'\"000"]


# Computed once (not fixtures: hypothesis would print them with each failure).
vocabulary = functools.cache(lint_vocabulary)
_closed = f"127.0.0.1:{free_port()}"
closed_vocabulary = functools.cache(lambda: database_vocabulary(_closed))
pooler_vocabulary = functools.cache(database_vocabulary)


@pytest.mark.parametrize("password", ISSUE_PASSWORDS)
def test_issue_passwords_in_every_carrier(password: str) -> None:
    check_lint(password, vocabulary())


@BOUNDED
@given(password=PASSWORDS)
def test_any_password_in_every_carrier(password: str) -> None:
    check_lint(password, vocabulary())


@pytest.mark.parametrize("password", ISSUE_PASSWORDS)
def test_issue_passwords_in_database_url_on_a_closed_port(password: str) -> None:
    check_database(password, _closed, closed_vocabulary())


@BOUNDED
@given(password=PASSWORDS)
def test_any_password_in_database_url_on_a_closed_port(password: str) -> None:
    check_database(password, _closed, closed_vocabulary())


@pytest.mark.parametrize("password", ISSUE_PASSWORDS[:4])
def test_issue_passwords_through_the_real_pgbouncer(password: str, db: Db) -> None:
    host_port = f"127.0.0.1:{db.servers.pooler_port}"
    check_database(password, host_port, pooler_vocabulary(host_port, db.name), db.name)


@settings(BOUNDED, max_examples=10)
@given(password=PASSWORDS)
def test_any_wrong_password_through_the_real_pgbouncer(password: str, db: Db) -> None:
    host_port = f"127.0.0.1:{db.servers.pooler_port}"
    check_database(password, host_port, pooler_vocabulary(host_port, db.name), db.name)


@pytest.mark.parametrize(("password", "shown", "escape"), [
    ("My@Secret", "'@'", "%40"), ("My?Secret", "'?'", "%3F"), ("My#Secret", "'#'", "%23"),
    ("My/Secret", "'/'", "%2F"), ("My Secret", "space", "%20"), ("My%Secret", None, "%25"),
])
@pytest.mark.parametrize("command", [c[0] for c in COMMANDS])
def test_a_malformed_database_url_is_named_by_position_never_echoed(password: str, shown: str | None, escape: str,
                                                                    command: str) -> None:
    """Before: `failed to resolve host 'Secret@host'`, `invalid URI query parameter: Secret@...`."""
    url = f"postgresql://postgres.abcd:{password}@aws-0-eu-west-1.pooler.supabase.com:6543/postgres"
    position = url.index(password) + 3  # the character after "My"
    with project({}):
        os.environ["DATABASE_URL"] = url
        code, output = call(*next(c for c in COMMANDS if c[0] == command), "--migrations", "migrations")
    assert code == 2, output
    expected = f"the connection string in DATABASE_URL is malformed at character {position}: "
    expected += (f"an unencoded {shown} in the password? percent-encode it as {escape}" if shown else
                 f"a '%' in the password that starts no %XX escape? percent-encode it as {escape}")
    assert expected in output, output
    assert "Secret" not in output and "pooler.supabase.com" not in output

"""No password in any output, for any password, and every direct connection
still reported: the property of tests/secrets_property.py, a bounded number
of examples here (scripts/fuzz.py --target secrets runs it for as long as
asked), plus the examples from the issue that broke it, each one explicit."""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings

from mobius_sqlcheck.applier.ephemeral import free_port
from tests.applier.conftest import db, servers  # noqa: F401 - the real PostgreSQL + PgBouncer fixtures
from tests.applier.helpers import Db
from tests.secrets_property import (
    PASSWORDS,
    check_database,
    check_lint,
    database_vocabulary,
    lint_vocabulary,
)

BOUNDED = settings(max_examples=25, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# Passwords that leaked or hid a direct connection before: a raw `#`, `@`,
# `?`, `/`, quotes, a space, a backtick, a `%` that starts no escape, non-ASCII.
ISSUE_PASSWORDS = ["xK9#mP2qL", "My@Secret", "My?Secret", "ab/cd/ef", "it's-mine", 'say "hi" now',
                   "has space here", "back`tick`", "100%pure", "pä55wörd€", "p@h:5432/x?y=z", "a'\\''b\"c"]


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

"""mobius_sqlcheck.connstr: parsing, redaction, the pooler policy and the text scanner."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from mobius_sqlcheck.connstr import (
    ConnStrError,
    Endpoint,
    find_connection_strings,
    parse,
    policy_problems,
    redact,
)

POOLER = "postgresql://postgres.abcdefgh:s3cr3t@aws-0-eu-west-1.pooler.supabase.com:6543/postgres"
DIRECT = "postgresql://postgres:s3cr3t@db.abcdefgh.supabase.co:5432/postgres"


# --- parse ----------------------------------------------------------------------


def test_parse_uri_parts() -> None:
    info = parse("postgres://al%40ice:p%3Ass@example.com:6543/my%20db?sslmode=require&application_name=x")
    assert info.kind == "uri"
    assert info.user == "al@ice"
    assert info.password == "p:ss"
    assert info.endpoints == (Endpoint("example.com", "6543"),)
    assert info.dbname == "my db"
    assert info.params == {"sslmode": "require", "application_name": "x"}


@pytest.mark.parametrize(
    ("uri", "endpoints"),
    [
        ("postgresql://h1:1,h2:2/db", (Endpoint("h1", "1"), Endpoint("h2", "2"))),
        ("postgresql://[::1]:6543/db", (Endpoint("::1", "6543"),)),
        ("postgresql://[2001:db8::1]/db", (Endpoint("2001:db8::1", None),)),
        ("postgresql:///db", (Endpoint("", None),)),
        ("postgresql://", (Endpoint("", None),)),
        ("postgresql://u@h", (Endpoint("h", None),)),
        ("postgresql://h:/db", (Endpoint("h", None),)),
        ("postgresql://u:p@h/db?host=other&port=6543", (Endpoint("other", "6543"),)),
        ("postgresql://u:p@h:5432/db?port=6543", (Endpoint("h", "6543"),)),
        ("postgresql:///db?host=/var/run/postgresql", (Endpoint("/var/run/postgresql", None),)),
        ("postgresql+asyncpg://u:p@h:6543/db", (Endpoint("h", "6543"),)),
        ("POSTGRES://h:6543", (Endpoint("h", "6543"),)),
        ("postgresql://u:p@${DB_HOST:-localhost}/db", (Endpoint("${DB_HOST:-localhost}", None),)),
        ("postgresql://u:p@${DB_HOST}:${DB_PORT}/db", (Endpoint("${DB_HOST}", "${DB_PORT}"),)),
    ],
)
def test_parse_uri_endpoints(uri: str, endpoints: tuple[Endpoint, ...]) -> None:
    assert parse(uri).endpoints == endpoints


def test_parse_uri_password_with_at_sign_keeps_whole_userinfo() -> None:
    info = parse("postgresql://user:p@ss@host:6543/db")
    assert info.password == "p@ss"
    assert info.endpoints == (Endpoint("host", "6543"),)


def test_parse_keyvalue() -> None:
    info = parse("host=db.example.com port = 6543 dbname=app user=me password='p w'")
    assert info.kind == "keyvalue"
    assert info.endpoints == (Endpoint("db.example.com", "6543"),)
    assert (info.user, info.dbname) == ("me", "app")


def test_parse_keyvalue_quoted_with_escapes() -> None:
    info = parse(r"host=h password='a b\'c' port=6543")
    assert info.password == "a b'c"


def test_parse_keyvalue_multi_host_one_port() -> None:
    info = parse("host=a,b port=6543 dbname=x")
    assert info.endpoints == (Endpoint("a", "6543"), Endpoint("b", "6543"))


def test_parse_keyvalue_no_host_is_socket() -> None:
    assert parse("dbname=app user=me").endpoints == (Endpoint("", None),)


@pytest.mark.parametrize(
    "bad",
    ["host=a port=1,2,3", "hostname=x port=1", "host x", "postgresql://u:p@[::1/db", "postgresql://h/db?sslmode"],
)
def test_parse_errors(bad: str) -> None:
    with pytest.raises(ConnStrError):
        parse(bad)


def test_parse_error_message_is_redacted() -> None:
    with pytest.raises(ConnStrError) as info:
        parse("host=h password=hunter2 oops")
    assert "hunter2" not in str(info.value)


# --- redact ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (POOLER, "postgresql://postgres.abcdefgh:***@aws-0-eu-west-1.pooler.supabase.com:6543/postgres"),
        ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),
        ("postgres://u@h/db", "postgres://u@h/db"),
        ("postgres://h:6543/db", "postgres://h:6543/db"),
        # A password may hold `@`, `/` and `?` unencoded: the mask runs to the last `@`.
        ("postgres://u:pw@h/db?user=a@b", "postgres://u:***@b"),
        ("postgres://u@h/db?password=x&sslmode=require", "postgres://u@h/db?password=***&sslmode=require"),
        ("host=h password=hunter2 dbname=x", "host=h password=*** dbname=x"),
        ("host=h password='hun ter2' dbname=x", "host=h password='***' dbname=x"),
        ("host=h password = hunter2", "host=h password = ***"),
        ("PGPASSWORD=hunter2 psql -h h", "PGPASSWORD=*** psql -h h"),
        ("export PGPASSWORD='hunter2'", "export PGPASSWORD='***'"),
        ('POSTGRES_PASSWORD: "hunter2"', 'POSTGRES_PASSWORD: "***"'),
        ('{"password": "hunter2"}', '{"password": "***"}'),
        ("ALTER ROLE app PASSWORD 'hunter2'", "ALTER ROLE app PASSWORD '***'"),
        ('say "postgres://u:hunter2@h:6543/db" now', 'say "postgres://u:***@h:6543/db" now'),
        ('FATAL:  password authentication failed for user "postgres"',
         'FATAL:  password authentication failed for user "postgres"'),
        ("no secrets here", "no secrets here"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_is_idempotent() -> None:
    once = redact(DIRECT + " password=x PGPASSWORD=y")
    assert redact(once) == once


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="@/?#\n\r \t'\"`"), min_size=1))
def test_redact_never_leaks_uri_password(password: str) -> None:
    from urllib.parse import quote

    uri = f"postgresql://user:{quote(password, safe='')}@host:6543/db"
    assert quote(password, safe="") not in redact(uri).split("@")[0].split("//")[1].replace("user:", "", 1).replace("***", "")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="'\"`,;&)"), min_size=1))
def test_redact_never_leaks_keyvalue_password(password: str) -> None:
    redacted = redact(f"host=h password={password} port=6543")
    assert redacted == "host=h password=*** port=6543"


# --- policy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conninfo", "count", "fragment"),
    [
        (POOLER, 0, None),
        (DIRECT, 2, "direct Supabase host"),
        ("postgresql://postgres:pw@db.abc.supabase.co:6543/postgres", 1, "direct Supabase host"),
        ("postgresql://u:pw@example.com/db", 1, "no port"),
        ("postgresql://u:pw@example.com:5432/db", 1, "port 5432 is not the pooler port 6543"),
        ("postgresql://u:pw@example.com:6543/db?port=5432", 1, "port 5432"),
        ("postgresql://u:pw@localhost:5432/db", 0, None),
        ("postgresql://u:pw@127.0.0.1/db", 0, None),
        ("postgresql://u:pw@[::1]:5432/db", 0, None),
        ("postgresql://u:pw@LOCALHOST:5432/db", 0, None),
        ("postgresql:///db", 0, None),
        ("host=/tmp port=5432 dbname=x", 0, None),
        ("host=example.com port=5432 dbname=x", 1, "port 5432"),
        ("host=example.com dbname=x", 1, "no port"),
        ("postgresql://u:pw@example.com:${PORT}/db", 0, None),
        ("postgresql://u:pw@example.com:$DB_PORT/db", 0, None),
        ("postgresql://u:pw@example.com:<port>/db", 0, None),
        ("postgresql://u:pw@${DB_HOST}/db", 0, None),
        ("postgresql://u:pw@${DB_HOST}:5432/db", 1, "port 5432"),
        ("postgresql://u:pw@h1:6543,h2:5432/db", 1, "port 5432"),
        ("postgresql://u:pw@localhost:5432,example.com:5432/db", 1, "port 5432"),
    ],
)
def test_policy_problems(conninfo: str, count: int, fragment: str | None) -> None:
    problems = policy_problems(conninfo)
    assert len(problems) == count, problems
    if fragment:
        assert any(fragment in p for p in problems), problems


def test_policy_custom_pooler_port_and_hosts() -> None:
    assert policy_problems("postgresql://h:7000/db", pooler_port=7000) == []
    assert policy_problems("postgresql://h:6543/db", pooler_port=7000) == ["port 6543 is not the pooler port 7000"]
    assert policy_problems("postgresql://db.internal:5432/x", allowed_hosts=["db.internal"]) == []
    assert policy_problems("postgresql://localhost:5432/x", allowed_hosts=[]) != []


def test_policy_problems_never_contain_password() -> None:
    for problem in policy_problems("postgresql://u:hunter2@db.x.supabase.co/db"):
        assert "hunter2" not in problem


# --- find_connection_strings ----------------------------------------------------------


def _scan(text: str) -> list[tuple[str, list[str]]]:
    return [(f.redacted, f.problems) for f in find_connection_strings(text)]


def test_find_offsets_cover_the_string() -> None:
    text = f"DATABASE_URL={DIRECT}\nOTHER=1\n"
    (found,) = find_connection_strings(text)
    assert text[found.start:found.end] == DIRECT
    assert found.kind == "uri"
    assert "s3cr3t" not in found.redacted
    assert len(found.problems) == 2


def test_find_in_env_file() -> None:
    text = (
        "# Supabase\n"
        f"DATABASE_URL={POOLER}\n"
        f'DIRECT_URL="{DIRECT}"\n'
        "PGPASSWORD=hunter2\n"
    )
    found = find_connection_strings(text)
    assert [f.problems == [] for f in found] == [True, False]


def test_find_in_yaml_and_toml() -> None:
    yaml = "database:\n  url: 'postgres://app:pw@db.abc.supabase.co:5432/postgres'\n  pool: 5\n"
    toml = '[db]\nurl = "postgresql://app:pw@aws-0-us-east-1.pooler.supabase.com:6543/postgres"\n'
    assert len(_scan(yaml)) == 1 and _scan(yaml)[0][1]
    assert _scan(toml) == [("postgresql://app:***@aws-0-us-east-1.pooler.supabase.com:6543/postgres", [])]


def test_find_in_python_and_shell() -> None:
    python = 'engine = create_engine("postgresql+psycopg://u:pw@example.com:5432/app")\n'
    shell = 'psql "host=example.com port=5432 dbname=app user=me password=pw" -c "select 1"\n'
    (found_py,) = find_connection_strings(python)
    assert python[found_py.start:found_py.end] == "postgresql+psycopg://u:pw@example.com:5432/app"
    (found_sh,) = find_connection_strings(shell)
    assert found_sh.kind == "keyvalue"
    assert shell[found_sh.start:found_sh.end] == "host=example.com port=5432 dbname=app user=me password=pw"
    assert found_sh.redacted.endswith("password=***")
    assert found_sh.problems == ["port 5432 is not the pooler port 6543"]


def test_find_in_markdown() -> None:
    text = (
        "Connect with `postgresql://postgres.[ref]:[password]@aws-0-[region].pooler.supabase.com:6543/postgres`.\n"
        "Never use the direct one (postgresql://postgres:[YOUR-PASSWORD]@db.[YOUR-PROJECT-REF].supabase.co:5432/postgres).\n"
        "See <postgres://h:6543/db>.\n"
    )
    found = _scan(text)
    assert len(found) == 3
    assert found[0][1] == []
    assert found[1][0] == "postgresql://postgres:***@db.[YOUR-PROJECT-REF].supabase.co:5432/postgres"
    assert len(found[1][1]) == 2
    assert found[2] == ("postgres://h:6543/db", [])


@pytest.mark.parametrize(
    "text",
    [
        "The direct connection uses port 5432; the pooler listens on 6543.",
        "Set port=5432 in your config.",
        "host=example.com",  # host alone is not a connection string
        "host = example.com\nport = 5432\n",  # INI lines, not one string
        "URIs start with postgres:// and name a host.",
        "DB_HOST=db.abc.supabase.co\nDB_PORT=5432\n",
        "dbhost=example.com port=5432",
    ],
)
def test_find_ignores_prose_and_fragments(text: str) -> None:
    assert [f for f in find_connection_strings(text) if f.problems] == []


@pytest.mark.parametrize(
    "text",
    [
        "DATABASE_URL=postgresql://postgres:[password]@aws-0-eu.pooler.supabase.com:${PORT}/postgres",
        "DATABASE_URL=postgresql://postgres:<password>@example.com:$DB_PORT/postgres",
        "url: postgresql://{{ .Values.user }}:{{ .Values.password }}@{{ .Values.host }}/app",
        "DATABASE_URL=postgres://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/${DB_NAME}",
        'dsn = f"host={host} port={port} dbname=app"',
        "url = 'postgresql://u:p@example.com:%(port)s/app'",
    ],
)
def test_find_placeholders_are_not_findings(text: str) -> None:
    assert [f.problems for f in find_connection_strings(text)] in ([], [[]])


def test_find_placeholder_password_still_checks_port() -> None:
    (found,) = find_connection_strings("postgres://postgres:[YOUR-PASSWORD]@example.com:5432/postgres")
    assert found.problems == ["port 5432 is not the pooler port 6543"]


def test_find_keyvalue_needs_two_keys_and_host() -> None:
    assert _scan("dbname=app user=me port=5432") == []
    assert len(_scan("host=example.com port=5432")) == 1


def test_find_keyvalue_sentence_end() -> None:
    (found,) = find_connection_strings("Use host=example.com port=5432.")
    assert found.redacted == "host=example.com port=5432"
    assert found.problems


def test_find_loopback_is_found_without_problems() -> None:
    found = find_connection_strings("DATABASE_URL=postgresql://postgres:postgres@localhost:5432/postgres")
    assert len(found) == 1 and found[0].problems == []


def test_find_several_on_one_line_and_jdbc() -> None:
    text = "a=postgres://h:5432/x b=jdbc:postgresql://h:6543/y"
    found = find_connection_strings(text)
    assert [f.redacted for f in found] == ["postgres://h:5432/x", "postgresql://h:6543/y"]
    assert [bool(f.problems) for f in found] == [True, False]


def test_find_respects_custom_port() -> None:
    assert find_connection_strings("postgres://h:7000/x", pooler_port=7000)[0].problems == []


def test_found_redacted_never_holds_password() -> None:
    text = f"{DIRECT} host=example.com port=5432 password='x y z' and PGPASSWORD=s3cr3t"
    for found in find_connection_strings(text):
        assert "s3cr3t" not in found.redacted and "x y z" not in found.redacted


@given(st.text(max_size=300))
def test_find_never_crashes_and_offsets_are_valid(text: str) -> None:
    for found in find_connection_strings(text):
        assert 0 <= found.start < found.end <= len(text)


@given(st.text(alphabet="postgresql:/@[]<>${}:5432 host=port.abc", max_size=120))
def test_find_never_crashes_on_near_misses(text: str) -> None:
    find_connection_strings(text)

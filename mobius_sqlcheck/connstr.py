"""PostgreSQL connection strings: parse, redact, check against the pooler-only
policy, and find them in arbitrary text.

Two forms exist (libpq, "Connection Strings"):

- URI: `postgres[ql][+driver]://[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`
- key=value: `host=... port=... dbname=... user=... password='...'`

The policy (rule MSC501 and the applier): every connection goes through the
transaction pooler, port 6543 by default. A missing port means libpq's 5432, a
direct connection; `db.<ref>.supabase.co` is Supabase's direct host. Loopback
hosts and Unix sockets are exempt: a local database is not a serverless
deployment.

Scanned text is full of templates, so an unresolved placeholder
(`${PORT}`, `$DB_PORT`, `<port>`, `[port]`, `{{ port }}`) is never a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

DEFAULT_POOLER_PORT = 6543
DEFAULT_PORT = 5432
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
MASK = "***"

# Keywords libpq accepts in a key=value string (PostgreSQL 15, "Parameter Key Words").
LIBPQ_KEYS = frozenset(
    """host hostaddr port dbname user password passfile channel_binding connect_timeout
    client_encoding options application_name fallback_application_name keepalives
    keepalives_idle keepalives_interval keepalives_count tcp_user_timeout replication
    gssencmode sslmode requiressl sslcompression sslcert sslkey sslpassword sslrootcert
    sslcrl sslcrldir sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version
    krbsrvname gsslib service target_session_attrs""".split()
)

SCHEME = re.compile(r"postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://", re.IGNORECASE)
DIRECT_SUPABASE_HOST = re.compile(r"^db\.[^.]+\.supabase\.co$", re.IGNORECASE)
# A placeholder somewhere in a value: shell/compose `$X` `${X}`, Jinja/Helm
# `{{ x }}`, docs-style `<x>` and `[x]`, Python `%(x)s`.
PLACEHOLDER = re.compile(
    r"\$\{?[A-Za-z_]|\{\{|\{[A-Za-z_][\w.]*\}|<[^<>]*>|\[[^\[\]]*[A-Za-z][^\[\]]*\]|%\([A-Za-z_]+\)s"
)


class ConnStrError(ValueError):
    """A string that is not a valid connection string; the message is redacted."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str  # "" for libpq's default (a Unix socket)
    port: str | None  # as written; None when absent


@dataclass(frozen=True)
class ConnInfo:
    kind: str  # "uri" or "keyvalue"
    endpoints: tuple[Endpoint, ...]
    user: str | None = None
    password: str | None = None
    dbname: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # everything else


@dataclass(frozen=True, slots=True)
class Found:
    """A connection string found in text: char offsets [start, end)."""

    start: int
    end: int
    kind: str  # "uri" or "keyvalue"
    redacted: str
    problems: list[str]


# --- parsing -----------------------------------------------------------------


def parse(conninfo: str) -> ConnInfo:
    """Parse a URI or key=value connection string; raises ConnStrError."""
    text = conninfo.strip()
    if SCHEME.match(text):
        return parse_uri(text)
    return parse_keyvalue(text)


def parse_uri(uri: str) -> ConnInfo:
    match = SCHEME.match(uri)
    if match is None:
        raise ConnStrError(f"not a postgres:// URI: {redact(uri)}")
    rest = uri[match.end():]
    rest, _, query = rest.partition("?")
    query = query.partition("#")[0]
    authority, slash, path = rest.partition("/")
    userinfo, at, hostlist = authority.rpartition("@")
    if not at:
        userinfo, hostlist = "", authority
    user, has_password, password = userinfo.partition(":")
    params = _parse_query(query)
    endpoints = _parse_hostlist(hostlist)
    if "host" in params or "port" in params:
        endpoints = _endpoints_from_lists(params.pop("host", None), params.pop("port", None), endpoints)
    return ConnInfo(
        kind="uri",
        endpoints=endpoints,
        user=params.pop("user", None) or (unquote(user) if user else None),
        password=params.pop("password", None) or (unquote(password) if has_password else None),
        dbname=params.pop("dbname", None) or (unquote(path) if slash and path else None),
        params=params,
    )


def _parse_query(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        key, equals, value = item.partition("=")
        if not equals:
            raise ConnStrError(f"invalid URI query parameter: {redact(item)}")
        params[unquote(key)] = unquote(value)
    return params


def _parse_hostlist(hostlist: str) -> tuple[Endpoint, ...]:
    """`h1:p1,[::1]:p2,h3` into endpoints; an empty list is libpq's default host."""
    endpoints = []
    for item in hostlist.split(",") if hostlist else [""]:
        if item.startswith("["):
            close = item.find("]")
            if close == -1:
                raise ConnStrError(f"unterminated IPv6 address in URI: {redact(item)}")
            host, port_part = item[1:close], item[close + 1:]
            port = port_part[1:] if port_part.startswith(":") else None
        elif _is_placeholder_only(item):
            host, port = item, None  # `${DB_HOST}` may hold "host:port" itself
        else:
            host, colon, port_text = item.rpartition(":")
            if not colon or _colon_inside_placeholder(item, len(host)):
                host, port = item, None
            else:
                port = port_text or None
        endpoints.append(Endpoint(unquote(host), unquote(port) if port else None))
    return tuple(endpoints)


def _is_placeholder_only(text: str) -> bool:
    return bool(text) and re.fullmatch(r"\$\{[^}]*\}|\$[A-Za-z_]\w*|\{\{[^}]*\}\}|\{[A-Za-z_][\w.]*\}|<[^<>]*>|\[[^\[\]]*\]", text) is not None


def _colon_inside_placeholder(text: str, colon: int) -> bool:
    """`${DB_HOST:-localhost}`: that colon is shell syntax, not a port separator."""
    return any(m.start() < colon < m.end() for m in re.finditer(r"\$\{[^}]*\}|\{\{[^}]*\}\}", text))


def _endpoints_from_lists(hosts: str | None, ports: str | None, fallback: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
    """libpq: `host=a,b port=1,2`; one port applies to every host."""
    host_list = hosts.split(",") if hosts is not None else [e.host for e in fallback]
    if ports is None:
        port_list: list[str | None] = [e.port for e in fallback] if hosts is None else [None]
    else:
        port_list = [p or None for p in ports.split(",")]
    if len(port_list) == 1:
        port_list = port_list * len(host_list)
    if len(port_list) != len(host_list):
        raise ConnStrError(f"could not match {len(port_list)} port numbers to {len(host_list)} hosts")
    return tuple(Endpoint(host, port) for host, port in zip(host_list, port_list))


KEYVALUE_PAIR = re.compile(
    r"""(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'|[^\s'"]*)""", re.DOTALL
)


def parse_keyvalue(text: str) -> ConnInfo:
    values: dict[str, str] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = KEYVALUE_PAIR.match(text, position)
        if match is None:
            raise ConnStrError(f'missing "=" in connection info string near: {redact(text[position:position + 40])}')
        key = match["key"]
        if key not in LIBPQ_KEYS:
            raise ConnStrError(f'invalid connection option "{key}"')
        values[key] = _unquote_libpq(match["value"])
        position = _skip_space(text, match.end())
    endpoints = _endpoints_from_lists(values.pop("host", values.pop("hostaddr", None)), values.pop("port", None), (Endpoint("", None),))
    return ConnInfo(
        kind="keyvalue",
        endpoints=endpoints,
        user=values.pop("user", None),
        password=values.pop("password", None),
        dbname=values.pop("dbname", None),
        params=values,
    )


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _unquote_libpq(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
    return value


# --- redaction -----------------------------------------------------------------

# URI userinfo: everything up to the last `@` of the authority is user[:password].
URI_CANDIDATE = re.compile(r"""postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://[^\s'"`]*""", re.IGNORECASE)
PASSWORD_KEY = re.compile(
    r"""(?P<key>\bpassword\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|"[^"]*"?|[^\s&'"`,;)]+)""", re.IGNORECASE
)
# PGPASSWORD=x, DB_PASSWORD: x, export POSTGRES_PASSWORD="x", "password": "x".
PASSWORD_VARIABLE = re.compile(
    r"""(?P<key>\b[A-Za-z0-9_]*PASSWORD["']?\s*[:=]\s*)(?P<value>'[^'\n]*'?|"[^"\n]*"?|[^\s'"`,;&]+)""",
    re.IGNORECASE,
)


# SQL: CREATE/ALTER ROLE ... PASSWORD 'x'.
SQL_PASSWORD = re.compile(r"""(?P<key>\bPASSWORD\s+)(?P<value>'(?:[^']|'')*'?)""", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every password replaced by `***`."""
    text = URI_CANDIDATE.sub(_redact_uri_match, text)
    text = PASSWORD_KEY.sub(_mask_value, text)
    text = PASSWORD_VARIABLE.sub(_mask_value, text)
    return SQL_PASSWORD.sub(_mask_value, text)


def _redact_uri_match(match: re.Match[str]) -> str:
    return redact_uri(match.group(0))


def redact_uri(uri: str) -> str:
    scheme = SCHEME.match(uri)
    if scheme is None:
        return uri
    body = uri[scheme.end():]
    # The query may also hold `@` (e.g. `?user=a@b`); only look before it.
    before_query = re.split(r"[?#]", body, maxsplit=1)[0]
    at = before_query.rfind("@")
    if at == -1:
        return uri
    userinfo = body[:at]
    user, colon, _ = userinfo.partition(":")
    masked = f"{user}:{MASK}" if colon else user
    return uri[: scheme.end()] + masked + body[at:]


def _mask_value(match: re.Match[str]) -> str:
    value = match["value"]
    if value in ("", MASK) or value.strip("'\"") in ("", MASK):
        return match.group(0)
    quote = value[0] if value[0] in "'\"" else ""
    return f"{match['key']}{quote}{MASK}{quote}"


# --- policy ---------------------------------------------------------------------


def policy_problems(
    conninfo: str | ConnInfo,
    pooler_port: int = DEFAULT_POOLER_PORT,
    allowed_hosts: tuple[str, ...] | list[str] = LOOPBACK_HOSTS,
) -> list[str]:
    """Why this connection is not through the transaction pooler (empty: fine).
    Raises ConnStrError when the string cannot be parsed."""
    info = parse(conninfo) if isinstance(conninfo, str) else conninfo
    problems: list[str] = []
    for endpoint in info.endpoints:
        for problem in endpoint_problems(endpoint, pooler_port, allowed_hosts):
            if problem not in problems:
                problems.append(problem)
    return problems


def endpoint_problems(endpoint: Endpoint, pooler_port: int, allowed_hosts: tuple[str, ...] | list[str]) -> list[str]:
    host = endpoint.host
    if is_local_host(host, allowed_hosts):
        return []
    problems = []
    if DIRECT_SUPABASE_HOST.match(host):
        problems.append(
            f"direct Supabase host {host}: use the transaction pooler "
            f"(aws-0-<region>.pooler.supabase.com:{pooler_port})"
        )
    port = endpoint.port
    if port is None:
        if not PLACEHOLDER.search(host):  # a templated host may carry its port
            problems.append(f"no port: libpq uses {DEFAULT_PORT}, a direct connection; use the pooler port {pooler_port}")
    elif port.isdigit() and int(port) != pooler_port:
        problems.append(f"port {port} is not the pooler port {pooler_port}")
    return problems


def is_local_host(host: str, allowed_hosts: tuple[str, ...] | list[str] = LOOPBACK_HOSTS) -> bool:
    """Loopback, an allowed host, or a Unix socket (empty host or a directory path)."""
    if host == "" or host.startswith("/") or host.startswith("@"):
        return True
    allowed = {h.lower().strip("[]") for h in allowed_hosts}
    return host.lower().strip("[]") in allowed


# --- scanning text --------------------------------------------------------------

# A URI runs to white space or a quote; a placeholder may hold brackets.
URI_IN_TEXT = re.compile(r"""(?<![A-Za-z0-9_])postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://[^\s'"`]*""", re.IGNORECASE)
KEYVALUE_IN_TEXT = re.compile(
    r"""(?<![A-Za-z0-9_.\-$])(?P<key>[a-z_]+)[ \t]*=[ \t]*(?P<value>'(?:[^'\\\n]|\\.)*'|[^\s'"`]+)"""
)
TRAILING_PUNCTUATION = ".,;:!?"
CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}


def find_connection_strings(
    text: str,
    pooler_port: int = DEFAULT_POOLER_PORT,
    allowed_hosts: tuple[str, ...] | list[str] = LOOPBACK_HOSTS,
) -> list[Found]:
    """Connection strings in any text (.env, YAML, TOML, Python, shell,
    Markdown), in order, each with its policy problems."""
    found = [f for f in _find_uris(text, pooler_port, allowed_hosts)]
    taken = [(f.start, f.end) for f in found]
    for item in _find_keyvalue_strings(text, pooler_port, allowed_hosts):
        if not any(start < item.end and item.start < end for start, end in taken):
            found.append(item)
    return sorted(found, key=lambda f: f.start)


def _find_uris(text: str, pooler_port: int, allowed_hosts: tuple[str, ...] | list[str]) -> list[Found]:
    results = []
    for match in URI_IN_TEXT.finditer(text):
        start = match.start()
        candidate = _trim_uri(match.group(0), text[start - 1] if start else "")
        scheme = SCHEME.match(candidate)
        if scheme is None or scheme.end() == len(candidate):
            continue  # prose naming the scheme, e.g. "URIs start with postgres://"
        try:
            problems = policy_problems(candidate, pooler_port, allowed_hosts)
        except ConnStrError:
            continue
        # redact(), not redact_uri(): a password may also sit in the query string.
        results.append(Found(start, start + len(candidate), "uri", redact(candidate), problems))
    return results


def _trim_uri(candidate: str, before: str) -> str:
    """Drop sentence punctuation and closing brackets that belong to the
    surrounding text: `(see postgres://h:6543/db).` or `<postgres://...>`."""
    while candidate:
        last = candidate[-1]
        if last in TRAILING_PUNCTUATION:
            candidate = candidate[:-1]
        elif last in CLOSERS and candidate.count(last) > candidate.count(CLOSERS[last]):
            candidate = candidate[:-1]
        elif last == ">" and before == "<" and candidate.count(">") == candidate.count("<") + 1:
            candidate = candidate[:-1]
        else:
            break
    return candidate


def _find_keyvalue_strings(text: str, pooler_port: int, allowed_hosts: tuple[str, ...] | list[str]) -> list[Found]:
    """Runs of libpq `key=value` pairs separated by spaces or tabs; a run
    counts when it has host= and at least one more libpq key."""
    results = []
    for run in _keyvalue_runs(text):
        start, end = run[0].start(), run[-1].end()
        keys = [m["key"] for m in run]
        if "host" not in keys or len(set(keys)) < 2:
            continue
        candidate = text[start:end]
        if not candidate.endswith("'"):  # "... port=5432." ends a sentence
            candidate = candidate.rstrip(TRAILING_PUNCTUATION)
            end = start + len(candidate)
        try:
            info = parse_keyvalue(candidate)
            problems = policy_problems(info, pooler_port, allowed_hosts)
        except ConnStrError:
            continue
        results.append(Found(start, end, "keyvalue", redact(candidate), problems))
    return results


def _keyvalue_runs(text: str) -> list[list[re.Match[str]]]:
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    for match in KEYVALUE_IN_TEXT.finditer(text):
        if match["key"] not in LIBPQ_KEYS:
            _close_run(runs, current)
            current = []
            continue
        if current and not _only_blanks(text[current[-1].end():match.start()]):
            _close_run(runs, current)
            current = []
        current.append(match)
    _close_run(runs, current)
    return runs


def _close_run(runs: list[list[re.Match[str]]], current: list[re.Match[str]]) -> None:
    if current:
        runs.append(current)


def _only_blanks(gap: str) -> bool:
    return gap != "" and gap.strip(" \t") == ""

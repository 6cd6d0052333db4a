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

Passwords are pasted as they are: `@`, `/`, `?`, `#`, quotes and spaces
unencoded. The lint and `redact` read a URI leniently (its user information
runs to the last `@` the carrier allows, see `uri_spans`), so such a URI is
still found and its password still masked; `redact` is the one place every
output goes through. The applier is strict (`check_strict`): it refuses
what libpq would misread, by position, never quoting the string.
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
    """A string that is not a valid connection string. The message never
    quotes the string (it may be all password); `position` is the 1-based
    character where the problem is, when known."""

    def __init__(self, reason: str, position: int | None = None) -> None:
        super().__init__(reason if position is None else f"at character {position}: {reason}")
        self.reason = reason
        self.position = position


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
        raise ConnStrError("not a postgres:// URI", 1)
    span = _span_in(uri, 0, match.end(), len(uri), whole_area=True)
    userinfo, rest = ("", uri[match.end():]) if span.at is None else (uri[match.end():span.at], uri[span.at + 1:])
    rest = rest.partition("#")[0]
    rest, _, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    query_start = len(uri) - len(query)
    user, has_password, password = userinfo.partition(":")
    params = _parse_query(query, query_start)
    endpoints = _parse_hostlist(authority)
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


# Characters libpq reads as structure in a URI's user information: written
# raw in a password, libpq splits the URI in the wrong place.
# libpq also refuses a raw space, quoting the text around it.
_RESERVED_IN_USERINFO = {"@": "%40", "/": "%2F", "?": "%3F", "#": "%23", "[": "%5B", "]": "%5D", " ": "%20",
                         "\t": "%09"}
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def check_strict(conninfo: str) -> None:
    """Raise ConnStrError (with a position, never quoting the string) for a
    URI whose user name or password holds a character it must percent-encode,
    which libpq would misread, and for anything `parse` rejects. For the
    applier: the lint reads such URIs leniently to still find them."""
    offset = len(conninfo) - len(conninfo.lstrip())
    text = conninfo.strip()
    try:
        if not SCHEME.match(text):
            parse_keyvalue(text)
            return
        body = SCHEME.match(text).end()  # type: ignore[union-attr]
        span = _span_in(text, 0, body, len(text), whole_area=True)
        if span.at is not None:
            _check_userinfo(text, body, span.at)
        parse_uri(text)
    except ConnStrError as error:
        if error.position is None:
            raise
        raise ConnStrError(error.reason, error.position + offset) from None


def _check_userinfo(text: str, start: int, end: int) -> None:
    colon = text.find(":", start, end)
    for position in range(start, end):
        char = text[position]
        part = "password" if colon != -1 and position > colon else "user name"
        if char in _RESERVED_IN_USERINFO:
            shown = {" ": "space", "\t": "tab"}.get(char, f"'{char}'")
            raise ConnStrError(f"an unencoded {shown} in the {part}? percent-encode it as "
                               f"{_RESERVED_IN_USERINFO[char]}", position + 1)
        if char == "%" and not _PERCENT_ESCAPE.match(text, position):
            raise ConnStrError(f"a '%' in the {part} that starts no %XX escape? percent-encode it as %25",
                               position + 1)


def _parse_query(query: str, offset: int = 0) -> dict[str, str]:
    params: dict[str, str] = {}
    position = offset
    for item in query.split("&"):
        key, equals, value = item.partition("=")
        if item and not equals:
            raise ConnStrError("a query parameter without '=' (key=value)", position + 1)
        if item:
            params[unquote(key)] = unquote(value)
        position += len(item) + 1
    return params


def _parse_hostlist(hostlist: str) -> tuple[Endpoint, ...]:
    """`h1:p1,[::1]:p2,h3` into endpoints; an empty list is libpq's default host."""
    endpoints = []
    for item in hostlist.split(",") if hostlist else [""]:
        if item.startswith("["):
            close = item.find("]")
            if close == -1:
                raise ConnStrError("an IPv6 address without its closing ']'")
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
            raise ConnStrError('a word without "=" (key=value pairs, values with spaces in single quotes)',
                               position + 1)
        key = match["key"]
        if key not in LIBPQ_KEYS:
            raise ConnStrError("an option libpq does not know", position + 1)
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


# --- where a URI is in text, and where its password is ---------------------------
#
# A password may hold any character, and people paste them unencoded: `@`, `/`,
# `?`, `#`, quotes, spaces. So a URI is not cut at the first reserved character:
# its user information runs to the last `@` that the rest of the URI can follow
# (a host list, then /dbname, ?query, #fragment), inside the area the URI can
# occupy in its carrier: up to the closing quote when it is quoted (with that
# carrier's escapes), the end of the line when it is the whole value of an
# assignment (`KEY=`, `key: `), else up to white space.

# A placeholder in a host or port: `${X}` `$X` `{{ x }}` `{x}` `<x>` `[x]` (also `[::1]`) `%(x)s`.
_ATOM = r"\$\{[^}\n]*\}|\$[A-Za-z_]\w*|\{\{[^}\n]*\}\}|\{[A-Za-z_][\w.]*\}|<[^<>\n]*>|\[[^\[\]\n]*\]|%\([A-Za-z_]+\)s"
_HOST = rf"(?:{_ATOM}|[^\s/?#@,:\[\]<>{{}}$'\"`\\])*"
_PORT = rf"(?::(?:{_ATOM}|[^\s/?#@,\[\]<>{{}}$'\"`\\])*)?"
# What follows the user information: host list, /dbname, ?query, #fragment.
_AFTER_USERINFO = re.compile(
    rf"{_HOST}{_PORT}(?:,{_HOST}{_PORT})*(?:/[^\s?#@'\"`]*)?(?:\?[^\s#'\"`]*)?(?:#[^\s'\"`]*)?"
)
_SCHEME_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_])postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://", re.IGNORECASE)
# The URI is the whole value: `KEY=`, `export KEY=`, `key: `, `"key": ` before it on its line.
_VALUE_START = re.compile(r"""^[ \t]*(?:export[ \t]+)?["']?[\w.\-]+["']?[ \t]*(?:=|:[ \t])[ \t]*$""")
QUOTES = "'\"`"
_KEY_LOOKBACK = 200


@dataclass(frozen=True, slots=True)
class UriSpan:
    """A URI in text (char offsets [start, end)); `secret` is the span of
    its password (after `user:`, up to the `@`), None when it has none."""

    start: int
    end: int
    secret: tuple[int, int] | None
    at: int | None  # the `@` that ends the user information


def uri_spans(text: str) -> list[UriSpan]:
    """Every postgres:// URI in `text`, in order."""
    starts = [m.start() for m in _SCHEME_IN_TEXT.finditer(text)]
    spans = []
    for index, start in enumerate(starts):
        limit = starts[index + 1] if index + 1 < len(starts) else len(text)
        spans.append(_span_at(text, start, limit))
    return spans


def _span_at(text: str, start: int, limit: int) -> UriSpan:
    body = SCHEME.match(text, start).end()  # type: ignore[union-attr]
    area_end, whole_area = _area_end(text, start, body, limit)
    return _span_in(text, start, body, area_end, whole_area)


def _span_in(text: str, start: int, body: int, area_end: int, whole_area: bool) -> UriSpan:
    ats = _last_ats(text, body, area_end)
    at, end = _choose_at(text, body, area_end, ats, whole_area)
    if at is None:
        return UriSpan(start, end, None, None)
    colon = text.find(":", body, at)
    return UriSpan(start, end, (colon + 1, at) if colon != -1 else None, at)


def _last_ats(text: str, start: int, end: int, most: int = 32) -> list[int]:
    """The last `most` `@` in [start, end): a password holds a few, and a line of
    thousands must not cost a host-list match each."""
    found: list[int] = []
    position = end
    while len(found) < most:
        position = text.rfind("@", start, position)
        if position == -1:
            break
        found.append(position)
    return found[::-1]


def _area_end(text: str, start: int, body: int, limit: int) -> tuple[int, bool]:
    """Where the URI's carrier ends it, and whether the URI must fill that area."""
    line_end = text.find("\n", body, limit)
    line_end = limit if line_end == -1 else line_end
    before = text[start - 1] if start else ""
    if before and before in QUOTES:
        close = _closing_quote(text, body, line_end, before)
        if "@" in text[body:close] or "@" not in text[close:line_end]:
            return close, True
        return line_end, False  # an unescaped quote in the password: `"...:say "hi"@host..."`
    # A key is short: look back a little, not to the start of a long line.
    line_start = text.rfind("\n", max(0, start - _KEY_LOOKBACK), start) + 1
    if (line_start or start <= _KEY_LOOKBACK) and _VALUE_START.match(text[line_start:start]):
        return len(text[:line_end].rstrip()), True
    space = re.compile(r"\s").search(text, body, line_end)
    return (space.start() if space else line_end), False


def _closing_quote(text: str, position: int, line_end: int, quote: str) -> int:
    """The first `quote` that closes the string: `\\"`, a doubled quote (YAML,
    SQL) and the shell's `'\\''` and `'"'"'` do not."""
    while position < line_end:
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == quote:
            if text.startswith(quote * 2, position):
                position += 2
                continue
            if quote == "'" and (text.startswith("'\\''", position) or text.startswith("'\"'\"'", position)):
                position += 4 if text.startswith("'\\''", position) else 5
                continue
            return position
        position += 1
    return line_end


def _choose_at(text: str, body: int, area_end: int, ats: list[int], whole_area: bool) -> tuple[int | None, int]:
    """The `@` ending the user information, and the URI's end: the last `@`
    after which a host list and the rest fill the area (or, in running text,
    reach its end), else the last `@` at all."""
    area_end = _trim_end(text, body, area_end) if not whole_area else area_end
    for at in reversed(ats):
        match = _AFTER_USERINFO.match(text, at + 1, area_end)
        if match and match.end() == area_end:
            return at, area_end
    if ats:
        match = _AFTER_USERINFO.match(text, ats[-1] + 1, area_end)
        return ats[-1], match.end() if match else area_end
    match = _AFTER_USERINFO.match(text, body, area_end)
    return None, _trim_end(text, body, match.end() if match else body)


def _trim_end(text: str, start: int, end: int) -> int:
    """Drop sentence punctuation and closing brackets that belong to the
    surrounding text: `(see postgres://h:6543/db).` or `<postgres://...>`."""
    while end > start:
        last, candidate = text[end - 1], text[start:end]
        if last in TRAILING_PUNCTUATION:
            end -= 1
        elif last in CLOSERS and candidate.count(last) > candidate.count(CLOSERS[last]):
            end -= 1
        else:
            break
    return end


# --- redaction -----------------------------------------------------------------

# `password=x` (libpq), `PGPASSWORD=x`, `export DB_PASSWORD="x"`, `password: x`,
# `"password": "x"`: the key, then the value as the carrier writes it.
PASSWORD_KEY = re.compile(r"""\b[A-Za-z0-9_]*PASSWORD["']?[ \t]*(?P<sep>[:=])[ \t]*""", re.IGNORECASE)
# A quoted value, with the escapes of JSON/Python/TOML/shell (`\"`), YAML/SQL
# (doubled quotes) and the shell's adjacent pieces (`'a'\''b'`, `'a'"'"'b'`).
QUOTED_VALUE = re.compile(r"""(?:'(?:[^'\\\n]|\\.|'')*'?|"(?:[^"\\\n]|\\.|"")*"?|\\.)+""")
# Unquoted after `=` (shell, libpq, .env): one word; after `:` (YAML): the line.
WORD_VALUE = re.compile(r"""[^\s]+""")
LINE_VALUE = re.compile(r"""[^\r\n]+""")
QUERY_VALUE = re.compile(r"""[^&#\s'"`]+""")
# SQL: CREATE/ALTER ROLE ... PASSWORD 'x'.
SQL_PASSWORD = re.compile(r"""(?P<key>\bPASSWORD\s+)(?P<value>'(?:[^']|'')*'?)""", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every password replaced by `***`: in URIs (however their
    password is written), key=value strings, password variables and keys,
    and SQL `PASSWORD '...'`."""
    pieces, done = [], 0
    for start, end in secret_spans(text):
        pieces.append(text[done:start] + MASK)
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def secret_spans(text: str) -> list[tuple[int, int]]:
    """The character spans of `text` that `redact` masks, in order, disjoint."""
    spans = sorted(_uri_secrets(text) + _key_secrets(text) + _sql_secrets(text))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _uri_secrets(text: str) -> list[tuple[int, int]]:
    """Each URI's user information after `user:`, up to the last `@` its
    carrier allows: more than the password rather than a piece less."""
    starts = [m.start() for m in _SCHEME_IN_TEXT.finditer(text)]
    spans = []
    for index, start in enumerate(starts):
        limit = starts[index + 1] if index + 1 < len(starts) else len(text)
        body = SCHEME.match(text, start).end()  # type: ignore[union-attr]
        line_end = text.find("\n", body, limit)
        area_end = limit if line_end == -1 else line_end
        before = text[start - 1] if start else ""
        if before and before in QUOTES:
            close = _closing_quote(text, body, area_end, before)
            if "@" in text[body:close]:
                area_end = close
        at = text.rfind("@", body, area_end)
        colon = text.find(":", body, at) if at != -1 else -1
        if colon != -1 and not text.startswith(MASK + "@", colon + 1):
            spans.append((colon + 1, at))
    return spans


def _key_secrets(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in PASSWORD_KEY.finditer(text):
        start = match.end()
        if text.startswith(MASK, start) or text.startswith(f"'{MASK}'", start) or text.startswith(f'"{MASK}"', start):
            continue
        if match.start() and text[match.start() - 1] in "?&":
            value = QUERY_VALUE.match(text, start)  # a URI's ?password=: up to the next parameter
        elif start < len(text) and text[start] in "'\"":
            value = QUOTED_VALUE.match(text, start)
        else:
            value = (WORD_VALUE if match["sep"] == "=" else LINE_VALUE).match(text, start)
        if value is None or not value.group(0).strip("'\""):
            continue
        quoted = text[start] in "'\"" and value.end() - start >= 2 and text[value.end() - 1] == text[start]
        spans.append((start + 1, value.end() - 1) if quoted else (start, value.end()))
    return spans


def _sql_secrets(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in SQL_PASSWORD.finditer(text):
        value = match["value"]
        if value.strip("'") in ("", MASK):
            continue
        start = match.start("value") + 1
        spans.append((start, match.end("value") - (1 if len(value) > 1 and value.endswith("'") else 0)))
    return spans


def is_secret_at(text: str, start: int, end: int) -> bool:
    """Whether [start, end) of `text` overlaps a password (judged on its line)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start:len(text) if line_end == -1 else line_end]
    return any(s < end - line_start and start - line_start < e for s, e in secret_spans(line))


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
    for span in uri_spans(text):
        candidate = text[span.start:span.end]
        scheme = SCHEME.match(candidate)
        if scheme is None or scheme.end() == len(candidate):
            continue  # prose naming the scheme, e.g. "URIs start with postgres://"
        try:
            problems = policy_problems(candidate, pooler_port, allowed_hosts)
        except ConnStrError:
            continue
        results.append(Found(span.start, span.end, "uri", _display(text, span), problems))
    return results


def _display(text: str, span: UriSpan) -> str:
    """The URI as it may be shown: its password (and any in the query) masked."""
    if span.secret is None:
        return redact(text[span.start:span.end])
    shown = text[span.start:span.secret[0]] + MASK + text[span.secret[1]:span.end]
    return redact(shown)


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

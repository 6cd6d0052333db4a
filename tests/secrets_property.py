"""The password property, shared by tests/test_secrets_property.py (a bounded
run in the suite) and scripts/fuzz.py --target secrets (as long as asked).

A password is drawn from all printable ASCII, the characters a URI reserves
(drawn more often, so every run meets them) and some non-ASCII. It is put in
every carrier a user writes one in: a URI unquoted and quoted in `.env`,
YAML, TOML, JSON, Python and shell (raw as pasted, and percent-encoded),
libpq key=value, `PGPASSWORD=` / `password:` neighbours, a migration whose
syntax error quotes it, and `DATABASE_URL` for every database command.

Then, for every output (stdout, stderr, each lint format, the SARIF file,
every file written under the project):
- no 4-character piece of the password (raw or percent-encoded) appears
  unless it also appears in the input without the password, or in what the
  same commands print for a plain password (the tool's own words: "pooler",
  "percent-encode"...);
- every direct connection is reported, at the line and column of its URI.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import yaml
from hypothesis import strategies as st

from mobius_sqlcheck.cli import main

# Reserved in a URI, or a quote/escape of some carrier.
SPECIAL = "@?#/:'\"` \\%&=;$[]{}<>,!*+"
NON_ASCII = "éüßñ€中文😀ø"
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
PASSWORDS = st.text(
    alphabet=st.one_of(PRINTABLE, st.sampled_from(SPECIAL), st.sampled_from(NON_ASCII)),
    min_size=4, max_size=24,
)
COMMANDS = [["apply", "--skip-lint"], ["status"], ["verify"], ["rollback", "--steps", "1"], ["baseline", "--to", "001"]]
LINT_FORMATS = ("text", "json", "sarif", "github")

USER = "postgres.abcdefghij"
DIRECT_HOST = "db.abcdefghij.supabase.co:5432"
MARK = "\x00PW\x00"  # where the password goes in a template


# -- carriers ---------------------------------------------------------------------------


def _uri(password: str) -> str:
    return f"postgresql://{USER}:{password}@{DIRECT_HOST}/postgres"


def _dotenv_double(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_basic(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_single(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _libpq_quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _yaml_plain_ok(value: str) -> bool:
    try:
        return yaml.safe_load(f"url: {value}\n") == {"url": value}
    except yaml.YAMLError:
        return False


@dataclass(frozen=True)
class Carrier:
    """A file holding the password; `uri_at` is the (line, column) of each
    direct connection string in it (1-based, columns in characters)."""

    name: str
    text: str
    uri_at: tuple[tuple[int, int], ...]


def _one_uri(name: str, prefix: str, uri: str, suffix: str = "", line: int = 1, head: str = "") -> Carrier:
    return Carrier(name, f"{head}{prefix}{uri}{suffix}\n", ((line, len(prefix) + 1),))


def carriers(password: str) -> list[Carrier]:
    raw, encoded = _uri(password), _uri(quote(password, safe=""))
    found = [
        _one_uri("input-raw.env", "DATABASE_URL=", raw),
        _one_uri("input-encoded.env", "DATABASE_URL=", encoded),
        _one_uri("input-double.env", 'DATABASE_URL="', _dotenv_double(raw)[1:-1], '"'),
        _one_uri("input-config.yaml", "  url: '", _yaml_single(raw)[1:-1], "'", line=2, head="database:\n"),
        _one_uri("input-settings.toml", 'url = "', _toml_basic(raw)[1:-1], '"', line=2, head="[database]\n"),
        _one_uri("input-settings.json", '{"url": "', json.dumps(raw, ensure_ascii=False)[1:-1], '"}'),
        _one_uri("input-settings.py", "URL = " + repr(raw)[0], repr(raw)[1:-1], repr(raw)[-1]),
        _one_uri("input-deploy.sh", "export DATABASE_URL=" + shlex.quote(raw)[0], shlex.quote(raw)[1:],
                 "") if shlex.quote(raw).startswith("'") else _one_uri("input-deploy.sh", "export DATABASE_URL=", raw),
    ]
    if "'" not in raw:
        found.append(_one_uri("input-single.env", "DATABASE_URL='", raw, "'"))
    if _yaml_plain_ok(raw):
        found.append(_one_uri("input-plain.yaml", "url: ", raw))
    dsn = f"host=db.abcdefghij.supabase.co port=5432 user=app password={_libpq_quoted(password)} dbname=postgres"
    found.append(_one_uri("input-dsn.conf", "dsn: ", dsn))
    found.append(Carrier("input-neighbours.env", f"PGHOST=db.abcdefghij.supabase.co\nPGPASSWORD={_dotenv_double(password)}\n"
                         f"export POSTGRES_PASSWORD={shlex.quote(password)}\n", ()))
    found.append(Carrier("input-neighbours.yaml", f"db:\n  password: {_yaml_single(password)}\n", ()))
    found.append(Carrier("input-neighbours.json",
                         json.dumps({"password": password, "user": "app"}, ensure_ascii=False) + "\n", ()))
    found.append(Carrier("input-neighbours.toml", f"password = {_toml_basic(password)}\n", ()))
    found.append(Carrier("input-neighbours.py", f"connect(host='h', password={password!r})\n", ()))
    return found


# A migration whose syntax error quotes the text around the password.
MIGRATION = "CREATE TABLE public.notes (id bigint PRIMARY KEY);\n"
ROLLBACK = "DROP TABLE IF EXISTS public.notes;\n"


def broken_migrations(password: str) -> dict[str, str]:
    return {
        "migrations/002_input_url.sql": f"SELECT 'postgresql://app:{password}@db.example.com:5432/app\n",
        "migrations/002_input_url_rollback.sql": f"SELECT 'PGPASSWORD={_dotenv_double(password)}\n",
    }


# -- running ------------------------------------------------------------------------------


@dataclass
class Outputs:
    texts: list[str]
    msc501: set[tuple[str, int, int]]


def call(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit:  # argparse
            code = int(exit.code or 0)
    return code, out.getvalue() + err.getvalue()


@contextlib.contextmanager
def project(files: dict[str, str]):
    """A project directory (the cwd) holding `files`, logs in its logs/."""
    with tempfile.TemporaryDirectory(prefix="mobius-secrets-") as root_name:
        root = Path(root_name)
        (root / "pyproject.toml").write_text("[tool.mobius_sqlcheck]\n", encoding="utf-8")
        (root / "logs").mkdir()
        (root / "migrations").mkdir()
        (root / "migrations" / "001_notes.sql").write_text(MIGRATION, encoding="utf-8")
        (root / "migrations" / "001_notes_rollback.sql").write_text(ROLLBACK, encoding="utf-8")
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        saved = {key: os.environ.get(key) for key in ("MOBIUS_SQLCHECK_LOG_DIR", "DATABASE_URL",
                                                      "MOBIUS_SQLCHECK_CACHE_DIR")}
        os.environ["MOBIUS_SQLCHECK_LOG_DIR"] = str(root / "logs")
        # The lint cache is named by hex digests, whose digits a substring scan
        # would take for pieces of a password; it stores messages redacted
        # (tests/test_history_cache.py), so it lives outside the scanned root.
        os.environ["MOBIUS_SQLCHECK_CACHE_DIR"] = root_name + "-cache"
        os.environ.pop("DATABASE_URL", None)
        try:
            with contextlib.chdir(root):
                yield root
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def written_files(root: Path) -> list[str]:
    """What the tool wrote: every file but the inputs."""
    return [path.read_bytes().decode("utf-8", "replace") for path in root.rglob("*")
            if path.is_file() and "input" not in path.name]


def lint_outputs(password: str) -> tuple[Outputs, list[Carrier]]:
    found = carriers(password)
    files = {c.name: c.text for c in found} | broken_migrations(password)
    texts: list[str] = []
    msc501: set[tuple[str, int, int]] = set()
    with project(files) as root:
        for fmt in LINT_FORMATS:
            code, output = call("lint", "--format", fmt, "--sarif-file", "out.sarif", *files)
            assert code == 1, output
            texts.append(output)
            if fmt == "json":
                for d in json.loads(output)["diagnostics"]:
                    if d["rule"] == "MSC501":
                        msc501.add((d["path"], d["line"], d["column"]))
        texts.extend(written_files(root))
    return Outputs(texts, msc501), found


def database_outputs(password: str, urls: list[str]) -> list[str]:
    """Every database command with DATABASE_URL set to each of `urls` (made
    with `password`), in text and JSON."""
    texts: list[str] = []
    with project({}) as root:
        for url in urls:
            os.environ["DATABASE_URL"] = url
            for command in COMMANDS:
                for fmt in ("text", "json"):
                    code, output = call(*command, "--migrations", "migrations", "--format", fmt)
                    assert code in (1, 2), output  # cannot connect / malformed: never 0, never a crash
                    if url == urls[-1]:  # percent-encoded: well-formed, so the connection is really tried
                        assert code == 1 and "cannot connect to" in output, output
                    assert "Traceback" not in output and "internal error" not in output, output
                    texts.append(output)
        texts.extend(written_files(root))
    return texts


def database_urls(password: str, host_port: str, dbname: str = "postgres") -> list[str]:
    return [f"postgresql://postgres:{password}@{host_port}/{dbname}",
            f"postgresql://postgres:{quote(password, safe='')}@{host_port}/{dbname}"]


# -- the property -------------------------------------------------------------------------


def pieces(password: str) -> set[str]:
    forms = {password, quote(password, safe="")}
    return {form[i:i + 4] for form in forms for i in range(len(form) - 3)} | {p for p in forms if len(p) < 4}


def leaked(password: str, outputs: list[str], vocabulary: str) -> list[str]:
    """The pieces of the password found in an output and not explained by the vocabulary."""
    return sorted({piece for piece in pieces(password) for text in outputs
                   if piece in text and piece not in vocabulary})


def lint_vocabulary() -> str:
    """What the inputs hold besides the password, and what lint prints for a plain one."""
    plain, found = lint_outputs("pw")
    inputs = [c.text.replace("pw", " ") for c in found] + [t.replace("pw", " ") for t in broken_migrations("pw").values()]
    return "\n".join(inputs + [t.replace("pw", " ") for t in plain.texts])


def check_lint(password: str, vocabulary: str) -> None:
    outputs, found = lint_outputs(password)
    bad = leaked(password, outputs.texts, vocabulary)
    assert not bad, f"password {password!r}: pieces {bad} in the output"
    expected = {(c.name, line, column) for c in found for line, column in c.uri_at}
    assert expected <= outputs.msc501, (
        f"password {password!r}: direct connections not reported at their position: "
        f"{sorted(expected - outputs.msc501)}")


def database_vocabulary(host_port: str, dbname: str = "postgres") -> str:
    """What the commands print for plain passwords, well-formed and each kind of malformed."""
    texts = []
    for plain in ("pw", "p@w", "p w", "p%w"):
        texts += [t.replace(plain, " ") for t in database_outputs(plain, database_urls(plain, host_port, dbname))]
    return "\n".join(texts) + host_port + dbname


def check_database(password: str, host_port: str, vocabulary: str, dbname: str = "postgres") -> None:
    outputs = database_outputs(password, database_urls(password, host_port, dbname))
    bad = leaked(password, outputs, vocabulary)
    assert not bad, f"password {password!r}: pieces {bad} in the output of a database command"

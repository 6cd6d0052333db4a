"""The lint history cache (mobius_sqlcheck.cache): a cached run prints exactly
what an uncached one prints, whatever changed in between, whatever is in the
cache directory, and however many processes share it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from bench.corpus import generate
from mobius_sqlcheck.cache import history, store
from mobius_sqlcheck.cache.store import Store, sweep
from mobius_sqlcheck.catalog import Catalog, Table
from mobius_sqlcheck.catalog_data import from_data, to_data
from mobius_sqlcheck.config import Config, config_from_table
from mobius_sqlcheck.lint import lint_paths
from mobius_sqlcheck.parse import parse_source
from mobius_sqlcheck.lint.replay import replay
from mobius_sqlcheck.reporters import renderer
from mobius_sqlcheck.source import SourceFile, read_source

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "rule_cases"
FUZZ = REPO / "tests" / "fuzz_corpus"


@pytest.fixture(autouse=True)
def small_snapshot_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots every 7 pairs, and at every run's end: a small history then
    loads snapshots in the middle, as a long one does."""
    monkeypatch.setattr(history, "SNAPSHOT_EVERY", 7)
    monkeypatch.setattr(history, "END_SNAPSHOT_AFTER", 1)


def _json(paths: list[str], config: Config, cache: Path | None) -> str:
    result = lint_paths(paths, config, cache_dir=None if cache is None else str(cache))
    assert not result.notices
    return renderer("json")(result)


def _same(paths: list[str], config: Config, cache: Path, fmt: str = "json") -> str:
    """Lint cached, then uncached: the output must be the same bytes."""
    cached_result = lint_paths(paths, config, cache_dir=str(cache))
    assert not cached_result.notices
    cached = renderer(fmt)(cached_result)
    uncached = renderer(fmt)(lint_paths(paths, config))
    assert cached == uncached
    return cached


# -- the catalog as plain data ----------------------------------------------------------


def _state(catalog: Catalog) -> dict:
    """Everything a catalog holds, comparable with ==."""
    def plain(value: object) -> object:
        if isinstance(value, Table):
            return ("Table", *(plain(getattr(value, slot)) for slot in Table.__slots__))
        if isinstance(value, dict):
            return [(key, plain(item)) for key, item in value.items()]  # order matters: rules iterate it
        return value

    # Records keep their order (rules iterate them); reverse links are only
    # ever looked up by key, so their order is not part of the state.
    return {name: dict(getattr(catalog, name)) if name.startswith("_") else plain(dict(getattr(catalog, name)))
            for name in Catalog._MAPS}


def _replayed(paths: list[Path]) -> Catalog:
    catalog = Catalog()
    for path in paths:
        source = read_source(str(path))
        if isinstance(source, SourceFile):
            replay(catalog, parse_source(source), str(path))
    return catalog


def _catalog_histories(tmp_path: Path) -> list[list[Path]]:
    corpus = tmp_path / "corpus"
    generate(corpus, files=60, seed=5)
    histories = [sorted(p for p in corpus.glob("*.sql") if not p.name.endswith("_rollback.sql")),
                 sorted((REPO / "migrations").glob("*.sql"))]
    for number, case in enumerate(_rule_cases()):
        directory = tmp_path / f"case{number}"
        _write_case(directory, case)
        histories.append(sorted(directory.glob("*.sql")))
    return histories


def test_catalog_round_trip(tmp_path: Path) -> None:
    import orjson

    for paths in _catalog_histories(tmp_path):
        catalog = _replayed(paths)
        data = orjson.loads(orjson.dumps(to_data(catalog, os.path.basename)))
        directory = paths[0].parent
        loaded = from_data(data, lambda name, directory=directory: str(directory / name))
        assert _state(loaded) == _state(catalog)
        # A loaded catalog replays on exactly as the original does.
        for catalog_after in (catalog, loaded):
            replay(catalog_after, parse_source(SourceFile("x.sql", _MORE, _MORE.encode())), "x.sql")
        assert _state(loaded) == _state(catalog)


_MORE = ("CREATE TABLE more_t (id int PRIMARY KEY, v text DEFAULT 'x'); "
         "ALTER TABLE more_t ADD CONSTRAINT more_t_v_check CHECK (v IS NOT NULL) NOT VALID; "
         "DROP TABLE IF EXISTS public.profiles CASCADE;")


def test_catalog_data_of_another_format_is_refused() -> None:
    data = to_data(Catalog())
    data["format"] = 999
    with pytest.raises(ValueError):
        from_data(data)


# -- cached == uncached ---------------------------------------------------------------


def _rule_cases() -> list[dict]:
    cases = []
    for data_file in sorted(CASES.glob("*.toml")):
        for case in tomllib.loads(data_file.read_text(encoding="utf-8")).get("case", []):
            if not case.get("directory"):
                cases.append(case)
    return cases


def _write_case(directory: Path, case: dict) -> None:
    directory.mkdir(parents=True)
    files = {name: content.encode("utf-8") for name, content in case.get("files", {}).items()}
    files.update({name: bytes.fromhex(content) for name, content in case.get("files_hex", {}).items()})
    for name, data in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def test_rule_cases_cached_and_warm_equal_uncached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    for number, case in enumerate(_rule_cases()):
        directory = tmp_path / f"case{number}" / "migrations"
        _write_case(directory, case)
        monkeypatch.chdir(directory)
        config = config_from_table({"select": case.get("select", ["ALL"]), **case.get("config", {})})
        paths = case.get("lint", ["."])
        cold = _same(paths, config, cache)
        assert _same(paths, config, cache) == cold  # warm


def test_fuzz_corpus_cached_equals_uncached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for number, case in enumerate(sorted(p for p in FUZZ.iterdir() if p.is_dir())):
        directory = tmp_path / f"fuzz{number}" / "migrations"
        directory.mkdir(parents=True)
        for fuzz in case.glob("*.fuzz"):
            shutil.copy(fuzz, directory / fuzz.name.removesuffix(".fuzz"))
        for _ in range(2):
            _same([str(directory)], Config(), cache)


def _forwards(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.sql") if not p.name.endswith("_rollback.sql"))


def test_every_change_to_the_history(tmp_path: Path) -> None:
    """The bench corpus (small), linted whole and as the hook lints it (one
    file given), after each kind of change, with one cache throughout."""
    directory = tmp_path / "migrations"
    generate(directory, files=40, seed=11)
    cache = tmp_path / "cache"
    config = Config()

    def check() -> None:
        _same([str(directory)], config, cache)
        _same([str(directory)], config, cache)  # warm
        forwards = _forwards(directory)
        for given in (forwards[-1], forwards[len(forwards) // 2], directory / "0005_x_rollback.sql"):
            if given.exists():
                _same([str(given)], config, cache)

    check()  # cold, then no change
    first = _forwards(directory)[0]
    first.write_text(first.read_text(encoding="utf-8") + "\nCREATE TABLE t_first (id int);\n", encoding="utf-8")
    check()  # the first file edited
    middle = _forwards(directory)[20]
    middle.write_text(middle.read_text(encoding="utf-8") + "\nALTER TABLE t_first ADD COLUMN n int NOT NULL;\n",
                      encoding="utf-8")
    check()  # a middle file edited (with a finding)
    (directory / "9999_appended.sql").write_text(
        "CREATE INDEX bad_name ON t_first (id);\nALTER TABLE t_first DROP COLUMN id;\n", encoding="utf-8")
    check()  # a file appended
    _forwards(directory)[10].unlink()
    check()  # a file deleted
    renamed = _forwards(directory)[12]
    renamed.rename(renamed.with_name(renamed.stem + "_renamed.sql"))
    check()  # a file renamed
    config = config_from_table({"index_name_pattern": "^ix_[a-z0-9_]+$"})
    check()  # a config value that changes findings
    before = _json([str(directory)], config, cache)
    assert "ix_" in before  # the pattern's findings are there
    for fmt in ("text", "github", "sarif"):
        _same([str(directory)], config, cache, fmt)  # the output format: a warm hit


def test_a_warm_hook_replays_only_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a run over the history, linting one appended file parses it
    alone: the history comes from the snapshot."""
    directory = tmp_path / "migrations"
    generate(directory, files=30, seed=3, rollbacks=False)
    cache = tmp_path / "cache"
    _same([str(directory)], Config(), cache)
    appended = directory / "9000_appended.sql"
    appended.write_text("CREATE INDEX idx_x ON profiles (id);\n", encoding="utf-8")
    parsed: list[str] = []
    from mobius_sqlcheck.lint import sources

    real = sources.parse_source
    monkeypatch.setattr(sources, "parse_source", lambda source, *a: parsed.append(source.path) or real(source, *a))
    lint_paths([str(appended)], Config(), cache_dir=str(cache))
    assert parsed == [str(appended)]


@pytest.mark.parametrize("remembered", [False, True], ids=["cli", "server"])
def test_a_warm_hook_loads_only_the_tables_it_touches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      remembered: bool) -> None:
    """The snapshot's tables are decoded on first use: the hook's file, its
    rules and the history rules (asked about the reported file's objects
    only) touch a few of them, and the output is the uncached one; also
    through the copy-on-write fork the editor's server gets of a snapshot
    it keeps in memory."""
    monkeypatch.setattr(history, "_MEMORY", {} if remembered else None)
    directory = tmp_path / "migrations"
    generate(directory, files=30, seed=3, rollbacks=False)
    cache = tmp_path / "cache"
    _same([str(directory)], Config(), cache)
    appended = directory / "9000_appended.sql"
    appended.write_text("CREATE INDEX idx_x ON profiles (id);\nCREATE TABLE public.t_new (id int);\n",
                        encoding="utf-8")
    from mobius_sqlcheck import catalog_data

    monkeypatch.setattr(history, "END_SNAPSHOT_AFTER", 16)  # as shipped: one new file writes no snapshot
    loaded: list[str] = []
    real = catalog_data._loaded_table
    monkeypatch.setattr(catalog_data, "_loaded_table", lambda item, *a: loaded.append(item[1]) or real(item, *a))
    snapshots: list[int] = []
    real_from_data = history.from_data
    monkeypatch.setattr(history, "from_data",
                        lambda data, *a: snapshots.append(len(data["tables"])) or real_from_data(data, *a))
    hook = _same([str(appended)], Config(), cache)
    assert "MSC601" in hook  # a history rule's finding on the new table
    assert snapshots and snapshots[0] > 10  # the history came from a snapshot...
    assert len(loaded) <= 3, loaded  # ...whose tables stayed as stored


def test_a_warm_run_with_every_entry_cached_replays_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pair and the history rules' findings cached: no file parsed, no
    snapshot loaded, and the history rules' findings (MSC602 here) still there."""
    directory = tmp_path / "migrations"
    generate(directory, files=12, seed=5)
    (directory / "0013_definer.sql").write_text(
        "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;\n", encoding="utf-8")
    cache = tmp_path / "cache"
    cold = _same([str(directory)], Config(), cache)
    assert "MSC602" in cold
    from mobius_sqlcheck.lint import sources

    monkeypatch.setattr(sources, "parse_source", lambda *a: pytest.fail("parsed on a warm run"))
    monkeypatch.setattr(history, "from_data", lambda *a: pytest.fail("a snapshot loaded on a warm run"))
    assert _json([str(directory)], Config(), cache) == cold


def test_a_supabase_config_above_the_history_is_seen_warm(tmp_path: Path) -> None:
    """MSC601 asks whether the history is a Supabase project's, which a
    `supabase/config.toml` above it says without changing any migration."""
    directory = tmp_path / "db" / "migrations"
    directory.mkdir(parents=True)
    (directory / "001_t.sql").write_text("CREATE TABLE public.t (id int);\n", encoding="utf-8")
    cache = tmp_path / "cache"
    config = config_from_table({"select": ["MSC601"]})
    assert "MSC601" not in _same([str(directory)], config, cache)
    (tmp_path / "supabase").mkdir()
    (tmp_path / "supabase" / "config.toml").write_text("project_id = 'x'\n", encoding="utf-8")
    assert "MSC601" in _same([str(directory)], config, cache)


# -- whatever is in the cache -------------------------------------------------------------


def _entries(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "history").rglob("*") if p.is_file() and p.parent.name != "history")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other version", "checksum mismatch",
                                    "valid checksum, foreign shape"])
def test_a_damaged_entry_gives_the_uncached_result(tmp_path: Path, damage: str) -> None:
    directory = tmp_path / "migrations"
    generate(directory, files=20, seed=2)
    middle = _forwards(directory)[10]
    middle.write_text(middle.read_text(encoding="utf-8") + "\nALTER TABLE t ADD COLUMN n int NOT NULL;\n",
                      encoding="utf-8")
    cache = tmp_path / "cache"
    expected = _json([str(directory)], Config(), None)
    assert _json([str(directory)], Config(), cache) == expected
    for entry in _entries(cache):
        data = entry.read_bytes()
        header, _, payload = data.partition(b"\n")
        fields = header.split(b" ")
        if damage == "truncated":
            data = data[: len(data) // 2]
        elif damage == "garbage":
            data = os.urandom(len(data))
        elif damage == "other version":
            fields[4] = b"0.0.0-other"
            data = b" ".join(fields) + b"\n" + payload
        elif damage == "checksum mismatch":
            payload = payload.replace(b"MSC", b"MSD") if b"MSC" in payload else payload[:-1] + b"0"
            data = header + b"\n" + payload
        else:  # someone forged the checksum over data of another shape
            payload = b'{"key": "%s", "f": [["MSC999"]], "catalog": {"version": 1}}' % fields[2]
            fields[3] = store.checksum(payload).encode()
            data = b" ".join(fields) + b"\n" + payload
        entry.write_bytes(data)
    result = lint_paths([str(directory)], Config(), cache_dir=str(cache))
    assert renderer("json")(result) == expected
    assert not result.notices
    # ...and the damaged entries were rebuilt: the next run is a warm one.
    assert _json([str(directory)], Config(), cache) == expected


def test_a_cache_that_cannot_be_written(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    generate(directory, files=10, seed=4)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    result = lint_paths([str(directory)], Config(), cache_dir=str(blocker / "cache"))
    assert renderer("json")(result) == _json([str(directory)], Config(), None)
    assert len(result.notices) == 1 and "\n" not in result.notices[0]
    run = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", str(directory)], cwd=tmp_path,
                         env={**os.environ, "MOBIUS_SQLCHECK_CACHE_DIR": str(blocker / "cache")},
                         capture_output=True, text=True)
    assert run.returncode in (0, 1)
    assert len(run.stderr.splitlines()) == 1 and "notice" in run.stderr


def test_eight_processes_on_one_cold_cache(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    generate(directory, files=60, seed=8)
    cache = tmp_path / "cache"
    env = {**os.environ, "MOBIUS_SQLCHECK_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "mobius_sqlcheck", "lint", "--format", "json", str(directory)]
    processes = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(8)]
    outputs = [process.communicate() for process in processes]
    uncached = subprocess.run([*command, "--no-cache"], cwd=tmp_path, env=env, capture_output=True)
    assert {out for out, _ in outputs} == {uncached.stdout}
    assert all(err == b"" for _, err in outputs)
    # Every entry left is whole and valid.
    entries = _entries(cache)
    assert entries and not [p for p in entries if p.name.endswith(".tmp")]
    reader = Store(str(cache), history.tool_version())
    for entry in entries:
        assert reader.get(entry.parent.parent.name, entry.name) is not None, entry
    warm = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True)
    assert warm.stdout == uncached.stdout


# -- where and how it lives ---------------------------------------------------------------


def test_default_location_gitignore_and_clean(tmp_path: Path) -> None:
    project = tmp_path / "project"
    generate(project / "migrations", files=5, seed=1)
    (project / "pyproject.toml").write_text("[tool.mobius_sqlcheck]\n")
    env = {k: v for k, v in os.environ.items() if k != "MOBIUS_SQLCHECK_CACHE_DIR"}
    env["PYTHONPATH"] = str(REPO)
    lint = [sys.executable, "-m", "mobius_sqlcheck", "lint", "migrations"]
    subprocess.run(lint, cwd=project, env=env, check=False, capture_output=True)
    root = project / ".mobius_sqlcheck_cache"
    assert (root / ".gitignore").read_text().splitlines()[-1] == "*"
    assert _entries(root)
    subprocess.run([*lint, "--no-cache"], cwd=project, env=env, capture_output=True)
    cleaned = subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "cache", "clean"], cwd=project, env=env,
                             capture_output=True, text=True)
    assert cleaned.returncode == 0 and not root.exists()
    (project / "pyproject.toml").write_text('[tool.mobius_sqlcheck]\ncache_dir = "build/lint-cache"\n')
    subprocess.run(lint, cwd=project, env=env, capture_output=True)
    assert _entries(project / "build" / "lint-cache") and not root.exists()


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    generate(directory, files=5, seed=1)
    env = {**os.environ, "MOBIUS_SQLCHECK_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lint", "--no-cache", str(directory)], cwd=tmp_path,
                   env=env, capture_output=True)
    assert not (tmp_path / "cache").exists()


def test_sweep_evicts_unused_and_keeps_the_bound(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    generate(directory, files=30, seed=6)
    cache = tmp_path / "cache"
    _json([str(directory)], Config(), cache)
    entries = _entries(cache)
    old = time.time() - 31 * 86400
    os.utime(entries[0], (old, old))
    sweep(str(cache / "history"))
    assert not entries[0].exists() and entries[1].exists()
    bound = sum(p.stat().st_size for p in _entries(cache)) // 2
    sweep(str(cache / "history"), max_bytes=bound)
    assert 0 < sum(p.stat().st_size for p in _entries(cache)) <= bound
    assert _json([str(directory)], Config(), cache) == _json([str(directory)], Config(), None)


# -- start-up -----------------------------------------------------------------------------

_HEAVY = ("orjson", "hashlib", "tempfile", "concurrent.futures", "sqlfluff", "psycopg", "dataclasses", "tomllib")
_MODULES_AFTER_LINT = """
import sys
from mobius_sqlcheck.cli import main
code = main(sys.argv[1:])
print(",".join(sorted(sys.modules)))
"""


def _hook_modules(directory: Path, tmp_path: Path) -> set[str]:
    env = {**os.environ, "MOBIUS_SQLCHECK_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _MODULES_AFTER_LINT, "lint", str(_forwards(directory)[-1])],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    modules = set(done.stdout.strip().splitlines()[-1].split(","))
    assert "mobius_sqlcheck.cache.history" in modules  # the cache was used
    return modules


def test_the_one_file_hook_imports_only_what_it_uses(tmp_path: Path) -> None:
    """A pre-commit run on one file of a small history, cold and warm: no
    module on the start-up path that this run does not need."""
    directory = tmp_path / "migrations"
    generate(directory, files=6, seed=9)
    for _ in range(2):  # cold, then warm
        modules = _hook_modules(directory, tmp_path)
        assert not [name for name in _HEAVY if name in modules], sorted(name for name in _HEAVY if name in modules)


def test_the_warm_hook_reads_a_snapshot_without_heavy_imports(tmp_path: Path) -> None:
    """20 pairs: the cold run leaves a catalog snapshot (written through
    orjson, its pairs read by a thread pool), which the warm run loads
    through the standard json module."""
    directory = tmp_path / "migrations"
    generate(directory, files=20, seed=9)
    _hook_modules(directory, tmp_path)  # cold
    assert list((tmp_path / "cache" / "history" / "sz").rglob("*"))
    modules = _hook_modules(directory, tmp_path)
    assert not [name for name in _HEAVY if name in modules], sorted(name for name in _HEAVY if name in modules)


def test_the_cache_stores_no_password(tmp_path: Path) -> None:
    """A message quoting a connection string's password is stored redacted."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_a.sql").write_text("CREATE TABLE t (id int);\nSELEC 'postgresql://u:Sup3rSecretPw@db.example.com:5432/x';\n",
                                         encoding="utf-8")
    cache = tmp_path / "cache"
    out = _same([str(directory)], Config(), cache)
    assert "Sup3rSecretPw" not in out
    assert _same([str(directory)], Config(), cache) == out  # warm: the stored, redacted message
    for entry in _entries(cache):
        data = entry.read_bytes()
        assert b"Sup3rSecretPw" not in data and b"Sup3rSecretPw" not in __import__("zlib").decompress(
            data.partition(b"\n")[2]) if entry.parent.parent.name.endswith("z") else b"Sup3rSecretPw" not in data



def test_the_layout_in_force_is_part_of_every_key(tmp_path: Path) -> None:
    from mobius_sqlcheck.migrations import load_layout_set
    from mobius_sqlcheck.rules import all_rules

    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_init.sql").write_text("CREATE TABLE brands (id uuid PRIMARY KEY);\n", encoding="utf-8")
    migration_set = load_layout_set(str(directory))
    assert migration_set.layout == "mobius"
    cache_store = Store(str(tmp_path / "cache"), history.tool_version())
    rules = all_rules()
    derived = history.open_history_cache(cache_store, Config(), rules, migration_set).keys
    assert derived == history.open_history_cache(cache_store, Config(), rules, migration_set, layout="mobius").keys
    assert derived != history.open_history_cache(cache_store, Config(), rules, migration_set, layout="dbmate").keys

"""The server's judgement without the protocol: an unsaved buffer judged
against its history, through the history cache or not, equals the CLI's
judgement of the same text saved."""

from __future__ import annotations

from pathlib import Path

from mobius_sqlcheck.config import Config
from mobius_sqlcheck.lint import lint_paths
from mobius_sqlcheck.lint.sources import Buffer
from mobius_sqlcheck.server.analysis import Analyzer, later_files
from mobius_sqlcheck.migrations import load_migration_set

FILES = {
    "001_init.sql": "CREATE TABLE brands (brand_id uuid PRIMARY KEY, kind text);\n",
    "002_more.sql": "ALTER TABLE brands DROP COLUMN kind;\n",
    "003_add.sql": "ALTER TABLE brands ADD COLUMN region text NOT NULL;\n",
}


def _history(root: Path) -> Path:
    migrations = root / "migrations"
    migrations.mkdir()
    for name, text in FILES.items():
        (migrations / name).write_text(text)
    return migrations


def _shown(diagnostics) -> list[str]:
    return sorted(f"{Path(d.path).name}:{d.line}:{d.column} {d.rule} {d.message}" for d in diagnostics)


def test_a_buffer_is_judged_as_if_saved_with_and_without_the_cache(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MOBIUS_SQLCHECK_CACHE_DIR", str(tmp_path / "cache"))
    migrations = _history(tmp_path)
    edited = "CREATE TABLE assets (id int);\n"  # 001 in the editor no longer creates brands
    buffers = {str(migrations / "001_init.sql"): Buffer(edited, 7)}
    # The cache already holds the files as saved: the buffer must not be judged by those entries.
    lint_paths([str(migrations)], Config(), cache_dir=str(tmp_path / "cache"))
    assert any((tmp_path / "cache").rglob("*"))
    cached, uncached = Analyzer(), Analyzer(use_cache=False)
    for _ in range(2):  # the second run reads what the first stored
        with_cache = cached.judge(str(migrations / "001_init.sql"), buffers)
        without = uncached.judge(str(migrations / "001_init.sql"), buffers)
        assert with_cache == without
    # The CLI on the same text saved finds the same.
    (migrations / "001_init.sql").write_text(edited)
    cli = lint_paths([str(migrations)], Config())
    judged = [d for found in with_cache.diagnostics.values() for d in found]
    assert _shown(judged) == _shown(cli.diagnostics)
    assert set(with_cache.diagnostics) == {str(migrations / name) for name in FILES}


def test_later_files_are_the_file_and_every_one_after_it(tmp_path: Path):
    migrations = _history(tmp_path)
    (migrations / "002_more_rollback.sql").write_text("SELECT 1;\n")
    found = later_files(load_migration_set(str(migrations)), str(migrations / "002_more.sql"))
    assert [Path(p).name for p in found] == ["002_more.sql", "002_more_rollback.sql", "003_add.sql"]
    found = later_files(load_migration_set(str(migrations)), str(migrations / "002_more_rollback.sql"))
    assert [Path(p).name for p in found] == ["002_more_rollback.sql", "003_add.sql"]


def test_an_editor_fix_follows_the_layout_of_the_buffer(tmp_path: Path):
    """A dbmate buffer, edited and not saved: its quick fix marks the up
    section `transaction:false` (dbmate's own way), not with our marker."""
    from mobius_sqlcheck.fixes.base import apply_edits
    from mobius_sqlcheck.source import SourceFile, decode_source

    migrations = tmp_path / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20240101000001_init.sql").write_text(
        "-- migrate:up\nCREATE TABLE brands (id int, name text);\n-- migrate:down\nDROP TABLE brands;\n")
    path = str(migrations / "20240101000002_index.sql")
    (migrations / "20240101000002_index.sql").write_text("-- migrate:up\nSELECT 1;\n")  # the buffer differs
    text = "-- migrate:up\nCREATE INDEX idx_brands_name ON brands (name);\n-- migrate:down\nDROP INDEX idx_brands_name;\n"
    analyzer = Analyzer(use_cache=False)
    judged = analyzer.judge(path, {path: Buffer(text, 1)})
    [finding] = [d for d in judged.diagnostics[path] if d.rule == "MSC306"]
    source = decode_source(path, text.encode())
    assert isinstance(source, SourceFile)
    first = analyzer.fixes_at(source, finding)[0]
    assert first.mechanical and not first.new_files
    assert apply_edits(text, list(first.edits)).startswith(
        "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_brands_name ON brands (name);")


def test_a_new_buffer_does_not_make_its_directory_ambiguous(tmp_path: Path):
    """One dbmate file on disk and a new buffer never saved (its marker
    cannot be read from disk): judged, not an ambiguous-layout crash (MSC004)."""
    migrations = tmp_path / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20240101000001_init.sql").write_text("-- migrate:up\nCREATE TABLE brands (id int);\n")
    path = str(migrations / "20240101000002_more.sql")
    judged = Analyzer(use_cache=False).judge(path, {path: Buffer("-- migrate:up\nSELECT 1;\n", 1)})
    assert "MSC004" not in {d.rule for d in judged.diagnostics.get(path, [])}


def test_a_dbmate_buffer_is_judged_by_its_own_sections(tmp_path: Path):
    """The up / down sections and their `transaction:false` come from the
    buffer as typed, not from the file on disk: judged as the CLI judges it saved."""
    migrations = tmp_path / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20240101000001_init.sql").write_text(
        "-- migrate:up\nCREATE TABLE brands (id int, name text);\n-- migrate:down\nDROP TABLE brands;\n")
    path = migrations / "20240101000002_index.sql"
    path.write_text("-- migrate:up\nSELECT 1;\n")
    text = ("-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON brands (name);\n"
            "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY IF EXISTS i;\n")
    judged = Analyzer(use_cache=False).judge(str(path), {str(path): Buffer(text, 1)})
    path.write_text(text)
    saved = lint_paths([str(migrations)], Config()).diagnostics
    assert _shown(judged.diagnostics[str(path)]) == _shown(d for d in saved if d.path == str(path))
    assert "MSC504" not in {d.rule for d in judged.diagnostics[str(path)]}


def test_no_editor_fix_rewrites_a_locked_migration(tmp_path: Path):
    """As `lint --fix`: once `lock` records a migration, the editor offers no
    action that edits it (the same finding in an unlocked file gets them)."""
    import subprocess
    import sys

    from mobius_sqlcheck.source import SourceFile, read_source

    migrations = _history(tmp_path)
    (migrations / "004_index.sql").write_text("CREATE INDEX idx_brands_region ON brands (region);\n")
    (tmp_path / "pyproject.toml").write_text('[tool.mobius_sqlcheck]\nmigrations = "migrations"\n')
    path = str(migrations / "004_index.sql")
    analyzer = Analyzer(use_cache=False)

    def offered() -> list[str]:
        [finding] = [d for d in analyzer.judge(path, {}).diagnostics[path] if d.rule == "MSC306"]
        source = read_source(path)
        assert isinstance(source, SourceFile)
        return [fix.title for fix in analyzer.fixes_at(source, finding)]

    assert offered(), "an unlocked migration gets its quick fixes"
    subprocess.run([sys.executable, "-m", "mobius_sqlcheck", "lock"], cwd=tmp_path, check=True, capture_output=True)
    assert offered() == []

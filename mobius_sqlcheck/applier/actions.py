"""The commands' work, shared by the CLI and `apply --ephemeral`: each function
takes a Session, reports through its Reporter and returns an exit code."""

from __future__ import annotations

import time
from typing import Any, Callable, NoReturn

from mobius_sqlcheck.applier import catalog_report, history, indexes, plan, supabase_history
from mobius_sqlcheck.applier.errors import safe_text
from mobius_sqlcheck.applier.lintgate import lint_errors, refusal_message
from mobius_sqlcheck.applier.output import format_ms
from mobius_sqlcheck.applier.runner import Job, MigrationFailed, Runner
from mobius_sqlcheck.applier.script import load_script
from mobius_sqlcheck.applier.session import Session
from mobius_sqlcheck.applier.verify import Difference, SchemaShape, compare, expected_shape, read_live
from mobius_sqlcheck.errors import OperationFailed, UsageError


class Failed(OperationFailed):
    """A command failed; `payload` is the JSON document's "error"."""

    def __init__(self, message: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.payload = payload or {"message": message}


def fail(session: Session, message: str, error: dict[str, Any] | None = None) -> NoReturn:
    raise Failed(message, error)


def reported(session: Session, work: Callable[[], int]) -> int:
    """Run a command's work and end its output: the JSON document (if any) is
    written whether it succeeded or failed."""
    try:
        code = work()
    except (OperationFailed, UsageError) as error:
        session.reporter.finish(False, getattr(error, "payload", None) or {"message": str(error)})
        raise
    session.reporter.finish(code == 0)
    return code


def read_entries(session: Session) -> list[plan.Entry]:
    with session.db.errors_reported("cannot read the migration history"):
        rows = history.read_all(session.db.conn)
    return plan.entries(session.migration_set, rows)


def read_cli_rows(session: Session) -> dict[str, supabase_history.CliRow]:
    """The Supabase CLI's history by version; empty when the CLI never ran here."""
    with session.db.errors_reported("cannot read the Supabase CLI's history"):
        return supabase_history.read_all(session.db.conn)


def applied_by_cli_only(entries: list[plan.Entry], rows: dict[str, supabase_history.CliRow]) -> list[plan.Entry]:
    """Pending for us, yet the Supabase CLI applied them."""
    return [e for e in entries if e.state == plan.PENDING and supabase_history.row_for(rows, e.version, e.name)]


def check_not_cli_migrated(session: Session, entries: list[plan.Entry]) -> None:
    """Refuse to run again what `supabase db push` already ran."""
    clash = applied_by_cli_only(entries, read_cli_rows(session))
    if clash:
        names = ", ".join(e.label for e in clash)
        fail(session, f"refusing to apply: the Supabase CLI already applied {names} to this database "
                      f"({supabase_history.TABLE}), and mobius_sqlcheck's history does not record them, so they "
                      "would run twice. Record them first: mobius-sqlcheck baseline --from-supabase "
                      "(with the same --database-url)")


def check_lint(session: Session) -> None:
    errors = [safe_text(e) for e in lint_errors(session.config, session.migration_set.directory)]
    if errors:
        fail(session, refusal_message(errors), {"message": "lint errors", "lint_errors": errors})


# --- apply ---


def apply_pending(session: Session, target: tuple[int, ...] | None = None, dry_run: bool = False, skip_lint: bool = False) -> int:
    reporter = session.reporter
    if not skip_lint:
        check_lint(session)
    entries = read_entries(session)
    check_not_cli_migrated(session, entries)
    try:
        todo = plan.to_apply(entries, target)
    except OperationFailed as error:
        fail(session, str(error))
    if not todo:
        reporter.note("nothing to apply: the database is up to date")
    elif dry_run:
        for entry in todo:
            reporter.migration("would apply", entry.label, entry.version, entry.name, detail=_plan_detail(entry))
    else:
        _apply_all(session, todo)
    return 0


def _plan_detail(entry: plan.Entry) -> str:
    flags = []
    if entry.migration and load_script(entry.migration).no_transaction:
        flags.append("no transaction")
    if entry.out_of_order:
        flags.append("out of order: sorts before an applied migration")
    return "; ".join(flags)


def _apply_all(session: Session, todo: list[plan.Entry]) -> None:
    runner = Runner(session.db, session.settings, session.reporter)
    runner.prepare()
    started = time.perf_counter()
    for index, entry in enumerate(todo):
        assert entry.migration is not None  # pending entries have a file
        script = load_script(entry.migration)
        try:
            outcome = runner.run(Job(entry.migration, script))
        except MigrationFailed as failed:
            _report_failure(session, entry, failed, later=len(todo) - index - 1, no_transaction=script.no_transaction)
        session.reporter.migration(outcome.action, entry.label, entry.version, entry.name, outcome.ms, outcome.detail)
    elapsed = (time.perf_counter() - started) * 1000
    session.reporter.note(f"done: {len(todo)} migration(s) in {format_ms(elapsed)}")


def _report_failure(session: Session, entry: plan.Entry, failed: MigrationFailed, later: int,
                    no_transaction: bool) -> NoReturn:
    session.reporter.migration("failed", entry.label, entry.version, entry.name)
    kept = (
        "it ran without a transaction: statements before the failing one stay applied (they are idempotent; "
        "fix the file and run apply again)" if no_transaction else "its transaction was rolled back: nothing of it stays"
    )
    message = f"{failed.failure.render()}\n{entry.label} failed; {kept}. Earlier migrations stay applied; {later} later migration(s) not run."
    fail(session, message, {"message": message, "statement": failed.failure.as_json()})


# --- rollback ---


def roll_back(session: Session, steps: int | None, to_version: tuple[int, ...] | None, dry_run: bool = False) -> int:
    reporter = session.reporter
    try:
        chosen = plan.to_roll_back(read_entries(session), steps, to_version)
    except OperationFailed as error:
        fail(session, str(error))
    jobs = _rollback_jobs(session, chosen)
    if not jobs:
        reporter.note("nothing to roll back")
    for job in jobs:
        if dry_run:
            reporter.migration("would undo", job.label, job.migration.version, job.migration.name)
            continue
        runner = Runner(session.db, session.settings, reporter)
        try:
            outcome = runner.run(job)
        except MigrationFailed as failed:
            reporter.migration("failed", job.label, job.migration.version, job.migration.name)
            fail(session, f"{failed.failure.render()}\n{job.label} failed and was rolled back; the migration stays applied.",
                 {"message": "rollback failed", "statement": failed.failure.as_json()})
        reporter.migration(outcome.action, job.label, job.migration.version, job.migration.name, outcome.ms, outcome.detail)
    return 0


def _rollback_jobs(session: Session, chosen: list[plan.Entry]) -> list[Job]:
    jobs, missing = [], []
    for entry in chosen:
        assert entry.migration is not None
        rollback = session.migration_set.rollback_for(entry.migration)
        if rollback is None:
            missing.append(entry.label)
        else:
            jobs.append(Job(entry.migration, load_script(rollback), undo=True))
    if missing:
        fail(session, f"no rollback file for {', '.join(missing)}: nothing was rolled back")
    return jobs


# --- status ---


def status(session: Session) -> int:
    reporter = session.reporter
    entries = read_entries(session)
    cli_rows = read_cli_rows(session)
    cli_states = []
    for entry in entries:
        detail = f"applied {entry.row.applied_at:%Y-%m-%d %H:%M:%S%z} by {entry.row.applied_by}" if entry.row else ""
        if entry.out_of_order:
            detail = "sorts before an applied migration"
        if cli_rows:
            cli = supabase_history.describe(cli_rows, entry.version, entry.name,
                                            entry.migration.path if entry.migration else None)
            cli_states.append({"file": entry.label, "supabase_cli": cli})
            detail = f"{detail}; {cli}" if detail else cli
        reporter.migration(entry.state, entry.label, entry.version, entry.name, detail=detail)
    if cli_rows:
        _report_cli_rows(session, entries, cli_rows)
        reporter.extra["supabase_cli"] = cli_states
    counts = {state: sum(1 for e in entries if e.state == state) for state in (plan.APPLIED, plan.PENDING, plan.MODIFIED, plan.MISSING)}
    invalid = read_invalid_indexes(session)
    for index in invalid:
        reporter.note(f"invalid index {index.qualified} on {index.table}: {INVALID_INDEX_ADVICE}")
    reporter.extra["summary"] = {**counts, "invalid indexes": len(invalid)}
    reporter.extra["invalid_indexes"] = [index.qualified for index in invalid]
    reporter.note(", ".join(f"{n} {state}" for state, n in counts.items()) + (f", {len(invalid)} invalid index(es)" if invalid else ""))
    off = len(entries) - counts[plan.APPLIED] + len(invalid)
    return 1 if off else 0


def _report_cli_rows(session: Session, entries: list[plan.Entry], rows: dict[str, supabase_history.CliRow]) -> None:
    matched = {e.version for e in entries if e.migration and supabase_history.row_for(rows, e.version, e.name)}
    for row in rows.values():
        if row.version not in matched:
            session.reporter.note(f"note: the Supabase CLI's history has {row.version}_{row.name or '?'}, which is "
                                  "not among the migration files")
    clash = applied_by_cli_only(entries, rows)
    if clash:
        session.reporter.note(f"note: {len(clash)} migration(s) applied by the Supabase CLI are not in "
                              "mobius_sqlcheck's history: run `mobius-sqlcheck baseline --from-supabase`")


INVALID_INDEX_ADVICE = (
    "left by a failed or cancelled CREATE INDEX CONCURRENTLY; it is not used and enforces nothing: "
    "drop it (DROP INDEX CONCURRENTLY) and run apply again"
)


def read_invalid_indexes(session: Session) -> list[indexes.InvalidIndex]:
    with session.db.errors_reported("cannot read the indexes"):
        return indexes.invalid_indexes(session.db.conn)


# --- verify ---


def verify(session: Session) -> int:
    reporter = session.reporter
    entries = read_entries(session)
    applied = {(e.version, e.name) for e in entries if e.state != plan.PENDING}
    if applied:
        expected = expected_shape(session.migration_set, applied)
        pending = sum(1 for e in entries if e.state == plan.PENDING)
        if pending:
            reporter.note(f"note: {pending} pending migration(s) are not expected in the database yet")
    else:
        reporter.note("note: no migration history: comparing with every migration file")
        expected = expected_shape(session.migration_set, None)
    with session.db.errors_reported("cannot read the live schema"):
        live = read_live(session.db.conn)
    differences = compare(expected, live)
    differences += [Difference("invalid", f"index {index.qualified}", f"on {index.table}: {INVALID_INDEX_ADVICE}")
                    for index in read_invalid_indexes(session)]
    _report_side_by_side(session, expected, live)
    return _report_differences(session, differences)


def _report_side_by_side(session: Session, expected: SchemaShape, live: SchemaShape) -> None:
    """The four catalog queries answered, beside what the migrations say."""
    for line in catalog_report.side_by_side(expected, live):
        session.reporter.note(line)
    session.reporter.extra["catalog"] = catalog_report.as_json(expected, live)


def _report_differences(session: Session, differences: list[Difference]) -> int:
    reporter = session.reporter
    for difference in differences:
        reporter.note(difference.render())
    reporter.extra["differences"] = [d.as_json() for d in differences]
    reporter.note(f"verify: {len(differences)} difference(s)" if differences else "verify: the database matches the migrations")
    return 1 if differences else 0


# --- baseline ---


def baseline(session: Session, to_version: tuple[int, ...]) -> int:
    """Record migrations applied by hand (psql -f) up to `to_version`, after
    checking that what they create exists."""
    reporter = session.reporter
    entries = read_entries(session)
    chosen = [e for e in entries if e.state == plan.PENDING and e.version_key <= to_version]
    if not chosen:
        reporter.note(f"nothing to baseline: every migration up to {'.'.join(map(str, to_version))} is recorded")
        return 0
    keys = {(e.version, e.name) for e in entries if e.state != plan.PENDING or e.version_key <= to_version}
    with session.db.errors_reported("cannot read the live schema"):
        live = read_live(session.db.conn)
    absent = [d for d in compare(expected_shape(session.migration_set, keys), live) if d.kind != "unexpected"]
    if absent:
        fail(session, "refusing to baseline: objects these migrations create are missing or differ:\n  "
             + "\n  ".join(d.render() for d in absent), {"message": "objects missing", "differences": [d.as_json() for d in absent]})
    runner = Runner(session.db, session.settings, reporter)
    runner.prepare()
    recorded = runner.record_baseline([(e.version, e.name, e.checksum or "") for e in chosen])
    for entry in chosen:
        action = "baselined" if (entry.version, entry.name) in recorded else "skipped"
        reporter.migration(action, entry.label, entry.version, entry.name)
    return 0


def baseline_from_supabase(session: Session) -> int:
    """Record the migrations the Supabase CLI applied, after checking that the
    statements it recorded are still those of each file."""
    reporter = session.reporter
    entries = read_entries(session)
    rows = read_cli_rows(session)
    if not rows:
        fail(session, f"nothing to baseline from: {supabase_history.TABLE} does not exist or is empty "
                      "(the Supabase CLI never migrated this database)")
    chosen = applied_by_cli_only(entries, rows)
    if not chosen:
        reporter.note("nothing to baseline: every migration the Supabase CLI applied is recorded")
        return 0
    problems = [problem for entry in chosen if (problem := _cli_problem(entry, rows))]
    if problems:
        fail(session, "refusing to baseline from the Supabase CLI's history; nothing was recorded:\n  "
             + "\n  ".join(problems), {"message": "statements differ", "problems": problems})
    runner = Runner(session.db, session.settings, reporter)
    runner.prepare()
    recorded = runner.record_baseline([(e.version, e.name, e.checksum or "") for e in chosen])
    for entry in chosen:
        action = "baselined" if (entry.version, entry.name) in recorded else "skipped"
        reporter.migration(action, entry.label, entry.version, entry.name, detail="applied by the Supabase CLI")
    return 0


def _cli_problem(entry: plan.Entry, rows: dict[str, supabase_history.CliRow]) -> str | None:
    row = supabase_history.row_for(rows, entry.version, entry.name)
    assert row is not None and entry.migration is not None
    if row.statements is None:
        return (f"{entry.label}: the Supabase CLI recorded no statements to check it against (an old CLI); "
                "check the schema and use `baseline --to VERSION`")
    mismatch = supabase_history.first_mismatch(row.statements, supabase_history.file_statements(entry.migration.path))
    return mismatch.render(entry.label) if mismatch else None

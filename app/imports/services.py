"""An import's way: upload → check (preview) → confirm → apply, each step recorded on its
``ImportRun``. The web runs check and apply as Celery tasks; the CLI calls them directly.

Checking and applying read the file from the database, so any worker can take the task; both
are safe to run twice (a finished step is not repeated).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, text, update

from app.auth.models import User
from app.auth.services.invitations import invite_staff
from app.core.audit import acting_as, current_actor, record_change
from app.core.audit_trail import user_actor
from app.core.sql import rows_updated
from app.core.types import DbSession, utcnow
from app.imports.applying import Applied, apply_plan
from app.imports.columns import columns_of
from app.imports.models import ImportKind, ImportRun, ImportStatus
from app.imports.planning import Plan, Problem, Progress, Value, build_plan
from app.imports.reading import FileProblem, read_table
from app.staff.models import Department, Employee

#: Rows of each kind of change shown in the preview; the counts cover all of them.
SHOWN_ROWS = 200


class ImportStepError(ValueError):
    """A step that does not fit the run's state (e.g. confirming twice)."""


def record_upload(
    db_session: DbSession,
    *,
    kind: str,
    filename: str,
    content: bytes,
    full_export: bool = False,
    mapping: dict[str, str] | None = None,
    user: User | None = None,
    label: str = "",
) -> ImportRun:
    """Keep an uploaded file for checking; the caller commits, then starts ``check``."""
    run = ImportRun(
        token=secrets.token_urlsafe(24),
        kind=ImportKind(kind).value,
        filename=(filename or "upload")[:255],
        size_bytes=len(content),
        content=content,
        full_export=full_export and kind == ImportKind.STAFF,
        mapping_json=json.dumps(mapping or {}),
        uploaded_by_user_id=user.id if user else None,
        uploaded_by_label=label[:100],
    )
    db_session.add(run)
    db_session.flush()
    return run


def find_run(db_session: DbSession, token: str) -> ImportRun | None:
    return db_session.scalar(select(ImportRun).where(ImportRun.token == token))


def recent_runs(db_session: DbSession, limit: int = 20) -> list[ImportRun]:
    return list(
        db_session.scalars(select(ImportRun).order_by(ImportRun.created_at.desc()).limit(limit))
    )


def check(
    db_session: DbSession, run_id: int, *, today: date, on_progress: Progress | None = None
) -> Plan | None:
    """Check the file and store the preview; commits. Returns the plan (None if not due)."""
    run = db_session.get(ImportRun, run_id)
    if run is None or run.status not in (ImportStatus.QUEUED, ImportStatus.CHECKING):
        return None
    run.status, run.progress = ImportStatus.CHECKING.value, 0
    db_session.commit()

    def progress(done: int, total: int) -> None:
        _set_progress(db_session, run_id, min(99, 100 * done // total), commit=True)
        if on_progress is not None:
            on_progress(done, total)

    try:
        plan = _plan(
            db_session, db_session.get_one(ImportRun, run_id), today=today, on_progress=progress
        )
    except Exception as error:  # recorded for the user; the task itself fails
        db_session.rollback()
        fail(db_session, db_session.get_one(ImportRun, run_id), type(error).__name__)
        db_session.commit()
        raise
    _store(db_session, db_session.get_one(ImportRun, run_id), plan)
    db_session.commit()
    return plan


def set_mapping(db_session: DbSession, run: ImportRun, mapping: dict[str, str]) -> None:
    """The user's word for unknown columns; the file is checked again (caller commits)."""
    if run.status not in (ImportStatus.MAPPING, ImportStatus.INVALID, ImportStatus.READY):
        raise ImportStepError(run.status)
    known = {c.name for c in columns_of(run.kind)}
    run.mapping_json = json.dumps({h: f for h, f in mapping.items() if f in known or f == ""})
    run.status, run.progress = ImportStatus.QUEUED.value, 0


def confirm(
    db_session: DbSession, run: ImportRun, user: User | None, *, invite_new: bool = False
) -> None:
    """Confirm a checked preview (``invite_new``: invite the new people of a staff import when
    it is applied); the caller commits, then starts ``apply``."""
    confirmed = rows_updated(
        db_session,
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.status == ImportStatus.READY.value)
        .values(
            status=ImportStatus.APPLYING.value,
            progress=0,
            confirmed_by_user_id=user.id if user else None,
            invite_new=invite_new and run.kind == ImportKind.STAFF.value,
        )
        .execution_options(synchronize_session=False),
    )
    db_session.expire(run)
    if not confirmed:
        raise ImportStepError(run.status)


def discard(db_session: DbSession, run: ImportRun) -> None:
    if run.status not in (ImportStatus.MAPPING, ImportStatus.INVALID, ImportStatus.READY):
        raise ImportStepError(run.status)
    run.status = ImportStatus.DISCARDED.value


def apply(
    db_session: DbSession,
    run_id: int,
    *,
    today: date,
    actor: User | None = None,
    on_progress: Progress | None = None,
    invitations: InvitationSettings | None = None,
) -> Applied | None:
    """Apply a confirmed import in one transaction; commits. None when there was nothing to do,
    the file has errors now, or the changes differ from the preview (shown again to confirm)."""
    _serialise(db_session, run_id)
    run = db_session.get(ImportRun, run_id)
    if run is None or run.status != ImportStatus.APPLYING:
        db_session.rollback()
        return None
    if actor is None and run.confirmed_by_user_id is not None:
        actor = db_session.get(User, run.confirmed_by_user_id)
    # The audit log names who confirmed the import, also when a worker applies it.
    who = current_actor() if actor is None else user_actor(actor)
    with acting_as(who):
        return _apply_run(
            db_session,
            run,
            actor=actor,
            today=today,
            on_progress=on_progress,
            invitations=invitations,
        )


def _apply_run(
    db_session: DbSession,
    run: ImportRun,
    *,
    actor: User | None,
    today: date,
    on_progress: Progress | None,
    invitations: InvitationSettings | None,
) -> Applied | None:
    run_id = run.id
    plan = _plan(db_session, run, today=today)
    if not plan.ok or plan.fingerprint() != run.fingerprint:
        _store(db_session, run, plan, changed_since_preview=plan.ok)
        db_session.commit()
        return None

    def progress(done: int, total: int) -> None:
        _set_progress(db_session, run_id, min(99, 100 * done // total), commit=False)
        if on_progress is not None:
            on_progress(done, total)

    try:
        applied = apply_plan(db_session, plan, actor=actor, on_progress=progress)
    except Exception as error:  # recorded for the user; nothing was written
        db_session.rollback()
        run = db_session.get_one(ImportRun, run_id)
        run.status, run.error = ImportStatus.FAILED.value, type(error).__name__
        db_session.commit()
        raise
    invited = _invite_new_people(db_session, run, plan, invitations)
    run.status, run.progress, run.applied_at = ImportStatus.DONE.value, 100, utcnow()
    run.created_count, run.updated_count = applied.created, applied.updated
    run.deactivated_count = applied.deactivated
    report = run.report
    report["applied"] = {
        "created": applied.created,
        "updated": applied.updated,
        "deactivated": applied.deactivated,
        "cancelled_enrolments": applied.cancelled_enrolments,
        "heads": applied.heads,
        "invited": invited,
    }
    run.report_json = json.dumps(report)
    # One entry per run, with counts: the rows themselves went in by bulk statements.
    record_change(
        db_session,
        action="import",
        entity="import",
        entity_id=run.id,
        after={"kind": run.kind, "filename": run.filename, **report["applied"]},
    )
    db_session.commit()
    return applied


@dataclass(frozen=True)
class InvitationSettings:
    """What inviting the new people of a staff import needs (from the app's config)."""

    valid_for: timedelta
    secret: str


def _invite_new_people(
    db_session: DbSession, run: ImportRun, plan: Plan, settings: InvitationSettings | None
) -> int:
    """Invite the people this staff import created, in its transaction, if HR asked to."""
    if not run.invite_new or run.kind != ImportKind.STAFF.value or not plan.new:
        return 0
    if settings is None:
        raise ValueError("inviting new people needs InvitationSettings")
    numbers = [str(row["personnel_number"]) for row in plan.new]
    employee_ids: list[int] = []
    for start in range(0, len(numbers), 500):
        employee_ids += db_session.scalars(
            select(Employee.id).where(Employee.personnel_number.in_(numbers[start : start + 500]))
        )
    return invite_staff(
        db_session,
        employee_ids=employee_ids,
        valid_for=settings.valid_for,
        secret=settings.secret,
    ).invited


def fail(db_session: DbSession, run: ImportRun, reason: str) -> None:
    """Mark a run that ended in an error; the caller commits."""
    run.status, run.error = ImportStatus.FAILED.value, reason


def fail_unstarted(db_session: DbSession, run_id: int) -> None:
    """Mark a run whose step could not be started (e.g. the broker is down), unless the step
    got far enough to say how it ended; the caller commits."""
    run = db_session.get_one(ImportRun, run_id)
    if run.busy:
        fail(db_session, run, "not started")


# --- helpers ---------------------------------------------------------------------------------


def _plan(
    db_session: DbSession, run: ImportRun, *, today: date, on_progress: Progress | None = None
) -> Plan:
    try:
        table = read_table(run.content)
    except FileProblem as problem:
        plan = Plan(kind=run.kind)
        plan.add_problem(Problem.of_file(problem))
        return plan
    plan = build_plan(
        db_session,
        kind=run.kind,
        table=table,
        mapping=run.mapping,
        full_export=run.full_export,
        today=today,
        on_progress=on_progress,
    )
    plan.format = table.format
    plan.headers = table.headers
    return plan


def _store(
    db_session: DbSession,
    run: ImportRun,
    plan: Plan,
    *,
    changed_since_preview: bool = False,
) -> None:
    if plan.needs_mapping:
        status = ImportStatus.MAPPING
    elif not plan.ok:
        status = ImportStatus.INVALID
    else:
        status = ImportStatus.READY
    run.status, run.progress = status.value, 100 if status == ImportStatus.READY else 0
    run.fingerprint = plan.fingerprint() if plan.ok else ""
    run.rows, run.error_count = plan.rows, plan.problem_count
    run.created_count, run.updated_count = len(plan.new), len(plan.updated)
    run.deactivated_count, run.unchanged_count = len(plan.deactivated), plan.unchanged
    run.checked_at = utcnow()
    report = summarise(db_session, plan)
    report["changed_since_preview"] = changed_since_preview
    run.report_json = json.dumps(report, default=str)


def summarise(db_session: DbSession, plan: Plan) -> dict[str, object]:
    """What the preview shows: counts, problems, and the first rows of each kind of change."""
    return {
        "format": plan.format,
        "headers": plan.headers,
        "columns": plan.match.headers,
        "unknown": plan.match.unknown,
        "missing": plan.match.missing,
        "rows": plan.rows,
        "problem_count": plan.problem_count,
        "problems": [p.as_dict() for p in plan.problems],
        "warnings": [p.as_dict() for p in plan.warnings],
        "warning_count": plan.warning_count,
        "active_before": plan.active_before,
        "counts": {
            "new": len(plan.new),
            "updated": len(plan.updated),
            "deactivated": len(plan.deactivated),
            "unchanged": plan.unchanged,
        },
        "new": _shown_new(db_session, plan),
        "updated": [
            {"key": change.key, "label": change.label, "changes": change.changes}
            for change in plan.updated[:SHOWN_ROWS]
        ],
        "deactivated": [
            {"key": change.key, "label": change.label, "reason": change.reason}
            for change in plan.deactivated[:SHOWN_ROWS]
        ],
    }


def _shown_new(db_session: DbSession, plan: Plan) -> list[dict[str, Value]]:
    rows = plan.new[:SHOWN_ROWS]
    if plan.kind == ImportKind.STAFF:
        ids = {row["department_id"] for row in rows}
        codes: dict[Value, str] = dict(
            db_session.execute(
                select(Department.id, Department.code).where(Department.id.in_(ids))
            ).all()
        )
        return [
            {
                "key": row["personnel_number"],
                "label": f"{row['first_name']} {row['last_name']}",
                "department": codes.get(row["department_id"]),
                "position": row["position"],
                "entry_date": row["entry_date"],
            }
            for row in rows
        ]
    if plan.kind == ImportKind.DEPARTMENTS:
        return [{"key": r["code"], "label": r["name"], "parent": r["parent"]} for r in rows]
    return [
        {
            "key": r["personnel_number"],
            "label": r["course"],
            "completed_on": r["completed_on"],
            "certificate_ref": r["certificate_ref"],
        }
        for r in rows
    ]


def _set_progress(db_session: DbSession, run_id: int, percent: int, *, commit: bool) -> None:
    if commit:  # checking holds no write transaction between rows
        db_session.execute(
            update(ImportRun).where(ImportRun.id == run_id).values(progress=percent),
            execution_options={"synchronize_session": False},
        )
        db_session.commit()
        return
    # Applying is one transaction: progress goes through its own connection. SQLite allows one
    # writer, so there the bar jumps from 0 to 100.
    bind = db_session.get_bind()
    if bind.dialect.name == "sqlite":
        return
    with bind.engine.begin() as connection:
        connection.execute(update(ImportRun).where(ImportRun.id == run_id).values(progress=percent))


def _serialise(db_session: DbSession, run_id: int) -> None:
    """Let one worker at a time apply a run (a redelivered task waits, then finds it done)."""
    if db_session.get_bind().dialect.name == "postgresql":
        db_session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": 7_000_000 + run_id})
    # SQLite: the transaction begins IMMEDIATE, which already admits one writer at a time.

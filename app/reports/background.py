"""Exports too large for one request: built by a Celery task, with progress, kept in the
database so any web node can hand the file out."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, select, update

from app.auth.models import User
from app.core.audit import record_access
from app.core.types import DbSession, utcnow
from app.reports import exports, services
from app.reports.models import ReportFile, ReportStatus
from app.requirements.status import PersonStatus, Status, people, people_ids, status_query
from app.staff.models import Department

#: Progress is written every this many rows (in its own short transaction).
PROGRESS_EVERY = 1000


def request_export(
    db_session: DbSession, *, user: User, department: Department | None, file_format: str
) -> ReportFile:
    """Record an export to build; the caller commits, then starts ``build_export`` with its id."""
    report = ReportFile(
        token=secrets.token_urlsafe(24),
        requested_by_user_id=user.id,
        department_id=department.id if department else None,
        format=file_format,
    )
    db_session.add(report)
    db_session.flush()
    return report


def fail_unstarted(db_session: DbSession, report_id: int) -> None:
    """Mark an export whose task could not be started; the caller commits."""
    report = db_session.get_one(ReportFile, report_id)
    report.status, report.error = ReportStatus.FAILED.value, "broker unavailable"


def build_export(db_session: DbSession, report_id: int, *, today: date, due_soon_days: int) -> None:
    """Build the file, writing progress as it goes; safe to run again (a finished one stays)."""
    report = db_session.get(ReportFile, report_id)
    if report is None or report.status == ReportStatus.DONE.value:
        return
    user = db_session.get(User, report.requested_by_user_id)
    if user is None:  # cannot be: the user's reports are deleted with them
        return
    report.status, report.progress = ReportStatus.RUNNING.value, 0
    db_session.commit()
    department = db_session.get(Department, report.department_id) if report.department_id else None
    roots, rows_for = services.scope_for(db_session, user, department)
    total = _row_count(db_session, roots, today, due_soon_days) or 1
    try:
        filename, content = export_content(
            db_session,
            department=department,
            roots=roots,
            rows_for=rows_for,
            file_format=report.format,
            today=today,
            due_soon_days=due_soon_days,
            on_rows=lambda done: _write_progress(
                db_session, report_id, min(99, 100 * done // total)
            ),
        )
    except Exception as error:  # recorded for the user; the task itself may be retried
        db_session.rollback()
        failed = db_session.get(ReportFile, report_id)
        if failed is not None:  # unless deleted meanwhile
            failed.status, failed.error = ReportStatus.FAILED.value, type(error).__name__
            db_session.commit()
        raise
    report.content, report.filename = content, filename
    report.status, report.progress, report.finished_at = ReportStatus.DONE.value, 100, utcnow()
    db_session.commit()


class ExportFile(NamedTuple):
    """A finished export: the name to download it as, and its bytes."""

    filename: str
    content: bytes


def named_statuses(file_format: str) -> list[str]:
    """The statuses of the people an export names: the PDF only those who need to act."""
    if file_format == "pdf":
        return [Status.OVERDUE.value, Status.DUE_SOON.value]
    return [s.value for s in Status]


def record_export(
    db_session: DbSession,
    *,
    filename: str,
    roots: list[Department] | None,
    file_format: str,
    today: date,
    due_soon_days: int,
) -> None:
    """Add to the access log that the current actor took the export ``filename`` of ``roots``:
    the people it names are copied by one INSERT … SELECT. The caller commits."""
    named = people_ids(
        db_session,
        roots=roots,
        today=today,
        due_soon_days=due_soon_days,
        statuses=named_statuses(file_format),
    )
    record_access(db_session, purpose="export", employee_ids=named, detail=filename)


def export_content(
    db_session: DbSession,
    *,
    department: Department | None,
    roots: list[Department] | None,
    rows_for: list[Department],
    file_format: str,
    today: date,
    due_soon_days: int,
    city_name: str = "",
    on_rows: Callable[[int], None] | None = None,
) -> ExportFile:
    """A CSV, XLSX or PDF export of a scope (see ``services.scope_for``)."""
    rows: Iterable[PersonStatus] = people(
        db_session,
        roots=roots,
        today=today,
        due_soon_days=due_soon_days,
        statuses=named_statuses(file_format),
    )
    if on_rows is not None:
        rows = _counting(rows, on_rows)
    scope_name = exports.scope_label(department, roots)
    if file_format == "csv":
        content = "".join(exports.people_csv(rows, scope_name=scope_name, today=today)).encode()
        return ExportFile(export_filename(department, file_format, today), content)
    coverage = services.coverage(
        db_session,
        departments=rows_for,
        scope_roots=roots,
        today=today,
        due_soon_days=due_soon_days,
        with_total=department is None,
    )
    if file_format == "xlsx":
        content = exports.people_xlsx(
            rows, coverage, scope_name=scope_name, today=today, due_soon_days=due_soon_days
        )
    else:
        content = exports.coverage_pdf(
            coverage,
            rows,
            scope_name=scope_name,
            city_name=city_name,
            today=today,
            due_soon_days=due_soon_days,
        )
    return ExportFile(export_filename(department, file_format, today), content)


def export_filename(department: Department | None, file_format: str, today: date) -> str:
    return f"schulungsquote-{department.code if department else 'gesamt'}-{today}.{file_format}"


def scope_size(db_session: DbSession, roots: list[Department] | None) -> int:
    """How many active employees a report covers (decides: now, or in the background)."""
    from app.staff.models import Employee
    from app.staff.services import subtree_condition

    query = select(func.count(Employee.id)).where(Employee.active.is_(True))
    if roots is not None:
        query = query.join(Department, Department.id == Employee.department_id).where(
            subtree_condition(roots)
        )
    return db_session.scalar(query) or 0


def _row_count(
    db_session: DbSession, roots: list[Department] | None, today: date, due_soon_days: int
) -> int:
    rows = status_query(today=today, due_soon_days=due_soon_days, roots=roots).subquery()
    return db_session.scalar(select(func.count()).select_from(rows)) or 0


def _counting(
    rows: Iterable[PersonStatus], report: Callable[[int], None]
) -> Iterator[PersonStatus]:
    for done, row in enumerate(rows, start=1):
        if done % PROGRESS_EVERY == 0:
            report(done)
        yield row


def _write_progress(db_session: DbSession, report_id: int, percent: int) -> None:
    # Its own connection and transaction: the export's query is still streaming on the other.
    # SQLite (the one-machine default) allows one writer while that read holds its lock, so
    # there the bar jumps from 0 to 100.
    engine = db_session.get_bind().engine
    if engine.dialect.name == "sqlite":
        return
    with engine.begin() as connection:
        connection.execute(
            update(ReportFile).where(ReportFile.id == report_id).values(progress=percent)
        )

"""Retention: what is anonymised or deleted when its time is up (docs/datenschutz.md).

Five categories, each a condition on rows and a change that makes the condition false (so a
second run changes nothing more):

- ``leavers``: people no longer active whose exit date lies ``LEAVER_RETENTION_MONTHS`` back.
  Their employee row stays (department, dates), so coverage history keeps counting them, but
  loses name, personnel number, e-mail and position; their enrolment history loses notes and
  who acted, completions their certificate reference, exemptions their reason; their login is
  deactivated and loses its address, password, roles, external identities and login links.
- ``outbox_bodies``: what a sent message said (its payload and delivery errors), after
  ``OUTBOX_BODY_RETENTION_DAYS``; kind, recipient, subject and times stay.
- ``import_files``: uploaded files (and the names in their previews), after
  ``IMPORT_FILE_RETENTION_DAYS``; an upload left unconfirmed that long is discarded.
- ``report_files``: finished exports built in the background, after ``REPORT_FILE_RETENTION_DAYS``.
- ``access_log``: who saw whose data, after ``ACCESS_LOG_RETENTION_MONTHS``.

The audit log is append-only and is not changed. ``count_due`` counts in SQL what a run would
change; ``run`` records a ``RetentionRun`` report and, when applying, changes the rows in
batches, each category in transactions of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    String,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)

from app.auth.models import DepartmentHead, LoginLink, User, UserIdentity, UserRole
from app.core.audit import AccessEvent, AccessEventEmployee, Actor, record_change
from app.core.models import OutboxAttempt, OutboxMessage, OutboxStatus
from app.core.sql import months_after
from app.core.types import BERLIN, DbSession, utcnow
from app.courses.models import CalendarFeed, Completion, Enrolment, EnrolmentEvent
from app.imports.models import BUSY_STATUSES, ImportRun, ImportStatus
from app.privacy.models import RetentionRun
from app.reports.models import ReportFile, ReportStatus
from app.requirements.models import Exemption
from app.staff.models import Employee

#: The categories, in the order a run works through them and a report lists them.
CATEGORIES = ("leavers", "outbox_bodies", "import_files", "report_files", "access_log")

#: The retention settings (config keys) and their defaults; docs/datenschutz.md lists them.
SETTINGS = {
    "RETENTION_APPLY": False,
    "LEAVER_RETENTION_MONTHS": 24,
    "OUTBOX_BODY_RETENTION_DAYS": 90,
    "IMPORT_FILE_RETENTION_DAYS": 30,
    "REPORT_FILE_RETENTION_DAYS": 30,
    "ACCESS_LOG_RETENTION_MONTHS": 12,
}

#: Rows changed per statement and transaction (bounded memory and lock time in a large city).
BATCH = 1000

#: What an import's stored report keeps: counts and column names, no person's data.
_IMPORT_REPORT_KEPT = (
    "format",
    "headers",
    "columns",
    "unknown",
    "missing",
    "rows",
    "problem_count",
    "warning_count",
    "active_before",
    "counts",
    "applied",
)
_IMPORT_REPORT_EMPTIED = ("problems", "warnings", "new", "updated", "deactivated")


@dataclass(frozen=True)
class Periods:
    """How long each category is kept."""

    leaver_months: int
    outbox_body_days: int
    import_file_days: int
    report_file_days: int
    access_log_months: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Periods:
        return cls(
            leaver_months=int(config["LEAVER_RETENTION_MONTHS"]),
            outbox_body_days=int(config["OUTBOX_BODY_RETENTION_DAYS"]),
            import_file_days=int(config["IMPORT_FILE_RETENTION_DAYS"]),
            report_file_days=int(config["REPORT_FILE_RETENTION_DAYS"]),
            access_log_months=int(config["ACCESS_LOG_RETENTION_MONTHS"]),
        )


@dataclass(frozen=True)
class Cutoffs:
    """What is at or before these is due (dates in Germany for exit dates, else UTC times)."""

    exit_on_or_before: date
    sent_before: datetime
    uploaded_before: datetime
    finished_before: datetime
    accessed_before: datetime

    @classmethod
    def at(cls, periods: Periods, now: datetime) -> Cutoffs:
        today = now.astimezone(BERLIN).date()
        return cls(
            exit_on_or_before=months_after(today, -periods.leaver_months),
            sent_before=now - timedelta(days=periods.outbox_body_days),
            uploaded_before=now - timedelta(days=periods.import_file_days),
            finished_before=now - timedelta(days=periods.report_file_days),
            accessed_before=_months_before(now, periods.access_log_months),
        )


def count_due(db_session: DbSession, periods: Periods, now: datetime) -> dict[str, int]:
    """How many rows of each category a run at ``now`` would anonymise, clear or delete."""
    cutoffs = Cutoffs.at(periods, now)
    return {
        category: db_session.scalar(
            select(func.count()).select_from(_DUE[category](cutoffs).subquery())
        )
        or 0
        for category in CATEGORIES
    }


def run(
    db_session: DbSession,
    *,
    periods: Periods,
    now: datetime,
    apply: bool,
    source: str,
    actor: Actor | None = None,
    batch: int = BATCH,
) -> RetentionRun:
    """Report (and with ``apply``, carry out) the retention due at ``now``; commits.

    A dry run counts and changes nothing but its report. An applying run works through each
    category in batches of ``batch`` rows, committing after each, so an interrupted run keeps
    what it did and the next run continues. One audit entry records the run and its counts."""
    report = RetentionRun(
        started_at=utcnow(),
        applied=apply,
        source=source,
        counts={},
        settings={"periods": asdict(periods), "now": now.isoformat()},
    )
    if apply:
        cutoffs = Cutoffs.at(periods, now)
        counts = {}
        for category in CATEGORIES:
            counts[category] = _apply_category(db_session, category, cutoffs, now, batch)
    else:
        counts = count_due(db_session, periods, now)
    report.counts = counts
    report.finished_at = utcnow()
    db_session.add(report)
    db_session.flush()
    record_change(
        db_session,
        action="retention",
        entity="retention_run",
        entity_id=report.id,
        after={"applied": apply, "source": source, "counts": counts},
        actor=actor,
    )
    db_session.commit()
    return report


def latest_runs(db_session: DbSession, limit: int = 30) -> list[RetentionRun]:
    """The most recent reports, newest first."""
    return list(
        db_session.scalars(
            select(RetentionRun)
            .order_by(RetentionRun.started_at.desc(), RetentionRun.id.desc())
            .limit(limit)
        )
    )


# --- which rows are due -----------------------------------------------------------------


def _leavers_due(cutoffs: Cutoffs) -> Select[Any]:
    # Someone still active (back on staff, an exit date not yet cleared) is never anonymised.
    return select(Employee.id).where(
        Employee.anonymised_at.is_(None),
        Employee.active.is_(False),
        Employee.exit_date.is_not(None),
        Employee.exit_date <= cutoffs.exit_on_or_before,
    )


def _outbox_bodies_due(cutoffs: Cutoffs) -> Select[Any]:
    return select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.SENT.value,
        OutboxMessage.sent_at.is_not(None),
        OutboxMessage.sent_at < cutoffs.sent_before,
        OutboxMessage.body_cleared_at.is_(None),
    )


def _import_files_due(cutoffs: Cutoffs) -> Select[Any]:
    return select(ImportRun.id).where(
        ImportRun.created_at < cutoffs.uploaded_before,
        ImportRun.status.not_in([status.value for status in BUSY_STATUSES]),
        func.length(ImportRun.content) > 0,
    )


def _report_files_due(cutoffs: Cutoffs) -> Select[Any]:
    return select(ReportFile.id).where(
        ReportFile.status.in_([ReportStatus.DONE.value, ReportStatus.FAILED.value]),
        func.coalesce(ReportFile.finished_at, ReportFile.created_at) < cutoffs.finished_before,
    )


def _access_log_due(cutoffs: Cutoffs) -> Select[Any]:
    return select(AccessEvent.id).where(AccessEvent.at < cutoffs.accessed_before)


_DUE: dict[str, Callable[[Cutoffs], Select[Any]]] = {
    "leavers": _leavers_due,
    "outbox_bodies": _outbox_bodies_due,
    "import_files": _import_files_due,
    "report_files": _report_files_due,
    "access_log": _access_log_due,
}


# --- carrying it out --------------------------------------------------------------------


def _apply_category(
    db_session: DbSession, category: str, cutoffs: Cutoffs, now: datetime, batch: int
) -> int:
    """Change every due row of one category, a batch per transaction; how many changed.

    Batches go up by id, so the run ends even if a row stayed due (it is left for the next)."""
    changed, after = 0, 0
    while True:
        due = _DUE[category](cutoffs)
        key = due.selected_columns[0]
        ids = list(db_session.scalars(due.where(key > after).order_by(key).limit(batch)))
        if not ids:
            return changed
        _APPLY[category](db_session, ids, now)
        db_session.commit()
        changed += len(ids)
        after = ids[-1]


def _anonymise_leavers(db_session: DbSession, ids: list[int], now: datetime) -> None:
    user_ids = list(db_session.scalars(select(User.id).where(User.employee_id.in_(ids))))
    addresses = select(Employee.email).where(Employee.id.in_(ids), Employee.email.is_not(None))
    logins = select(User.email).where(User.id.in_(user_ids))
    db_session.execute(
        update(OutboxMessage)
        .where(or_(OutboxMessage.recipient.in_(addresses), OutboxMessage.recipient.in_(logins)))
        .values(recipient="")
        .execution_options(synchronize_session=False)
    )
    enrolments = select(Enrolment.id).where(Enrolment.employee_id.in_(ids))
    db_session.execute(
        update(EnrolmentEvent)
        .where(EnrolmentEvent.enrolment_id.in_(enrolments))
        .values(note="", actor_user_id=None)
        .execution_options(synchronize_session=False)
    )
    db_session.execute(
        update(Completion)
        .where(Completion.employee_id.in_(ids), Completion.certificate_ref != "")
        .values(certificate_ref="")
        .execution_options(synchronize_session=False)
    )
    db_session.execute(
        update(Exemption)
        .where(Exemption.employee_id.in_(ids))
        .values(reason="")
        .execution_options(synchronize_session=False)
    )
    db_session.execute(
        delete(LoginLink).where(
            or_(LoginLink.employee_id.in_(ids), LoginLink.user_id.in_(user_ids))
        )
    )
    for model in (UserIdentity, UserRole, DepartmentHead):
        db_session.execute(delete(model).where(model.user_id.in_(user_ids)))
    db_session.execute(delete(CalendarFeed).where(CalendarFeed.employee_id.in_(ids)))
    db_session.execute(
        update(User)
        .where(User.id.in_(user_ids))
        .values(
            email=literal("anonymised-") + cast(User.id, String) + literal("@invalid"),
            password_hash=None,
            active=False,
            locale=None,
            last_login_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    db_session.execute(
        update(Employee)
        .where(Employee.id.in_(ids), Employee.anonymised_at.is_(None))
        .values(
            personnel_number=literal("anon-") + cast(Employee.id, String),
            first_name="",
            last_name="",
            email=None,
            position=None,
            active=False,
            anonymised_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def _clear_outbox_bodies(db_session: DbSession, ids: list[int], now: datetime) -> None:
    # Whom a message went to stays findable (Meine Daten lists it): the payload keeps only
    # the employee's id, which is not what the message said.
    payloads = db_session.execute(
        select(OutboxMessage.id, OutboxMessage.payload).where(OutboxMessage.id.in_(ids))
    ).all()
    db_session.execute(
        update(OutboxMessage),
        [
            {"id": id_, "payload": _kept_payload(payload), "last_error": "", "body_cleared_at": now}
            for id_, payload in payloads
        ],
    )
    db_session.execute(
        update(OutboxAttempt)
        .where(OutboxAttempt.message_id.in_(ids), OutboxAttempt.error != "")
        .values(error="")
        .execution_options(synchronize_session=False)
    )


def _clear_import_files(db_session: DbSession, ids: list[int], now: datetime) -> None:
    rows = db_session.execute(
        select(ImportRun.id, ImportRun.status, ImportRun.report_json).where(ImportRun.id.in_(ids))
    ).all()
    left_unconfirmed = (ImportStatus.READY.value, ImportStatus.MAPPING.value)
    db_session.execute(
        update(ImportRun),
        [
            {
                "id": id_,
                "content": b"",
                "report_json": _kept_import_report(report),
                "status": ImportStatus.DISCARDED.value if status in left_unconfirmed else status,
            }
            for id_, status, report in rows
        ],
    )


def _delete_report_files(db_session: DbSession, ids: list[int], now: datetime) -> None:
    db_session.execute(delete(ReportFile).where(ReportFile.id.in_(ids)))


def _delete_access_events(db_session: DbSession, ids: list[int], now: datetime) -> None:
    db_session.execute(delete(AccessEventEmployee).where(AccessEventEmployee.event_id.in_(ids)))
    db_session.execute(delete(AccessEvent).where(AccessEvent.id.in_(ids)))


_APPLY: dict[str, Callable[[DbSession, list[int], datetime], None]] = {
    "leavers": _anonymise_leavers,
    "outbox_bodies": _clear_outbox_bodies,
    "import_files": _clear_import_files,
    "report_files": _delete_report_files,
    "access_log": _delete_access_events,
}


# --- helpers ----------------------------------------------------------------------------


def _kept_import_report(report_json: str) -> str:
    try:
        report = json.loads(report_json or "{}")
    except ValueError:
        report = {}
    kept: dict[str, Any] = {key: report[key] for key in _IMPORT_REPORT_KEPT if key in report}
    kept.update({key: [] for key in _IMPORT_REPORT_EMPTIED})
    return json.dumps(kept)


def _kept_payload(payload: object) -> dict[str, Any]:
    if isinstance(payload, dict) and isinstance(payload.get("employee_id"), int):
        return {"employee_id": payload["employee_id"]}
    return {}


def _months_before(moment: datetime, months: int) -> datetime:
    day = months_after(moment.date(), -months)
    return moment.replace(year=day.year, month=day.month, day=day.day)

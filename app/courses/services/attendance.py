"""Attendance after a session, and the completions (Nachweise) it creates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, or_, select

from app.auth.models import User
from app.core.audit import record_change
from app.core.roles import Role
from app.core.sql import months_after
from app.core.types import BERLIN, DbSession, utcnow
from app.courses.models import (
    SEATED_STATUSES,
    Completion,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentAction,
    EnrolmentStatus,
)
from app.courses.services.enrolment import record_event
from app.courses.services.errors import AttendanceTooEarly, InvalidInput, NotAllowed

#: Outcomes HR can record for someone who held a seat.
OUTCOMES = (
    EnrolmentStatus.BOOKED,  # not yet recorded
    EnrolmentStatus.ATTENDED,
    EnrolmentStatus.NO_SHOW,
    EnrolmentStatus.EXCUSED,
)
_OUTCOME_ACTIONS = {
    EnrolmentStatus.ATTENDED: EnrolmentAction.ATTENDED,
    EnrolmentStatus.NO_SHOW: EnrolmentAction.NO_SHOW,
    EnrolmentStatus.EXCUSED: EnrolmentAction.EXCUSED,
}


def record_attendance(
    db_session: DbSession,
    *,
    course_session: CourseSession,
    outcomes: Mapping[int, EnrolmentStatus],
    actor: User,
    others_attended: bool = False,
) -> int:
    """Set the outcome of the given seats (by enrolment id) at once; returns how many changed.
    Seats not given stay as they are, or, ``others_attended``, those not yet recorded count
    as attended (HR records who was absent, then everyone else at once).

    "Attended" gives the person a completion dated the session's day; changing it back takes
    that completion away again. A no-show or an excused absence gives none.
    """
    if not actor.has_role(Role.HR):
        raise NotAllowed(actor.email)
    if not course_session.has_begun(utcnow()):
        raise AttendanceTooEarly(course_session.starts_at.isoformat())
    wanted: ColumnElement[bool] = Enrolment.id.in_(list(outcomes))
    if others_attended:
        wanted = or_(wanted, Enrolment.status == EnrolmentStatus.BOOKED.value)
    seated = {
        e.id: e
        for e in db_session.scalars(
            select(Enrolment).where(
                Enrolment.session_id == course_session.id,
                Enrolment.status.in_(SEATED_STATUSES),
                wanted,
            )
        )
    }
    unknown = set(outcomes) - set(seated)
    if unknown:
        raise InvalidInput({"outcomes": _l("Some people are not booked on this date.")})
    if others_attended:
        rest = {i: EnrolmentStatus.ATTENDED for i in seated if i not in outcomes}
        outcomes = {**outcomes, **rest}
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for enrolment_id, outcome in outcomes.items():
        enrolment = seated[enrolment_id]
        if enrolment.status == outcome.value:
            continue
        person = str(enrolment.employee_id)
        before[person], after[person] = enrolment.status, outcome.value
        if enrolment.status == EnrolmentStatus.ATTENDED.value:
            _withdraw_completion(db_session, enrolment, course_session)
        enrolment.status = outcome.value
        if outcome is EnrolmentStatus.ATTENDED:
            _grant_completion(db_session, enrolment, course_session)
        if outcome in _OUTCOME_ACTIONS:
            record_event(db_session, enrolment, _OUTCOME_ACTIONS[outcome], actor=actor)
    if after:  # one entry per date: each changed person's outcome, by employee id
        record_change(
            db_session,
            action="attendance",
            entity="session",
            entity_id=course_session.id,
            before=before,
            after=after,
        )
    db_session.flush()
    return len(after)


def valid_until(course: Course, completed_on: date) -> date | None:
    """The last day a completion of ``course`` counts: validity months later (clamped to the
    month's end, as in the coverage rules), minus one day."""
    if course.validity_months is None:
        return None
    return months_after(completed_on, course.validity_months) - timedelta(days=1)


def session_day(course_session: CourseSession) -> date:
    """The calendar day of the session in Berlin (what the certificate says)."""
    return course_session.starts_at.astimezone(BERLIN).date()


# --- helpers ---------------------------------------------------------------------------------


def _grant_completion(
    db_session: DbSession, enrolment: Enrolment, course_session: CourseSession
) -> None:
    completed_on = session_day(course_session)
    exists = db_session.scalar(
        select(Completion.id).where(
            Completion.employee_id == enrolment.employee_id,
            Completion.course_id == course_session.course_id,
            Completion.completed_on == completed_on,
        )
    )
    if exists is None:  # e.g. already imported from the HR system
        db_session.add(
            Completion(
                employee_id=enrolment.employee_id,
                course_id=course_session.course_id,
                completed_on=completed_on,
                valid_until=valid_until(course_session.course, completed_on),
                session_id=course_session.id,
            )
        )


def _withdraw_completion(
    db_session: DbSession, enrolment: Enrolment, course_session: CourseSession
) -> None:
    # One by one through the session, so that the audit log records each completion taken away.
    for completion in db_session.scalars(
        select(Completion).where(
            Completion.employee_id == enrolment.employee_id,
            Completion.session_id == course_session.id,
        )
    ):
        db_session.delete(completion)

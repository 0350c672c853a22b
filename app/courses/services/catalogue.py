"""The catalogue: courses, and the sessions that run them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import User
from app.core.models import MessageKind
from app.core.outbox import enqueue
from app.core.roles import Role
from app.core.types import DbSession, utcnow
from app.courses.models import (
    ACTIVE_STATUSES,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentAction,
    EnrolmentStatus,
    date_has_begun,
)
from app.courses.services.enrolment import lock_session, promote_waitlisted, record_event
from app.courses.services.errors import InvalidInput, NotAllowed, SessionNotBookable

#: Fields of a session whose change matters to the people booked on it (their calendar entry).
CALENDAR_FIELDS = ("starts_at", "ends_at", "location", "online_url")


@dataclass(frozen=True)
class CourseData:
    code: str
    title: str
    description: str = ""
    learning_goals: str = ""
    format: str = "in_person"
    language: str = "de"
    duration_minutes: int = 180
    default_capacity: int = 16
    trainer: str = ""
    validity_months: int | None = None


@dataclass(frozen=True)
class SessionData:
    starts_at: datetime
    ends_at: datetime
    capacity: int
    location: str = ""
    online_url: str = ""
    min_participants: int = 0
    trainer: str = ""
    enrolment_deadline: datetime | None = None
    cancellation_deadline: datetime | None = None
    notes: str = ""


def save_course(
    db_session: DbSession, *, data: CourseData, actor: User, course: Course | None = None
) -> Course:
    """Add a course to the catalogue, or change one (completions given keep their dates)."""
    _require_hr(actor)
    _check_course(db_session, data, course=course)
    if course is None:
        course = Course()
        db_session.add(course)
    for name, value in data.__dict__.items():
        setattr(course, name, value)
    db_session.flush()
    return course


def set_archived(db_session: DbSession, course: Course, *, archived: bool, actor: User) -> Course:
    """Archive a course (no new bookings; history stays) or bring it back."""
    _require_hr(actor)
    course.archived = archived
    db_session.flush()
    return course


def schedule_session(
    db_session: DbSession, *, course: Course, data: SessionData, actor: User
) -> CourseSession:
    """Add a dated session of ``course``."""
    _require_hr(actor)
    if course.archived:
        raise InvalidInput({"course": _l("An archived course cannot get new dates.")})
    _check_session(data, seats_taken=0, now=utcnow())
    course_session = CourseSession(course=course, seats_taken=0, **data.__dict__)
    db_session.add(course_session)
    db_session.flush()
    return course_session


def update_session(
    db_session: DbSession, course_session: CourseSession, *, data: SessionData, actor: User
) -> CourseSession:
    """Change a session. People booked are told when time or place change; more seats go to
    the waiting list at once."""
    _require_hr(actor)
    course_session = lock_session(db_session, course_session.id)  # seats as they are now
    if course_session.cancelled_at is not None:
        raise SessionNotBookable("cancelled")
    _check_session(data, seats_taken=course_session.seats_taken, now=None)
    calendar_changed = any(
        getattr(course_session, name) != getattr(data, name) for name in CALENDAR_FIELDS
    )
    for name, value in data.__dict__.items():
        setattr(course_session, name, value)
    if calendar_changed:
        course_session.sequence += 1
    db_session.flush()
    if calendar_changed:
        for enrolment in _active_enrolments(db_session, course_session):
            enqueue(
                db_session,
                key=f"session-changed:{course_session.id}:{course_session.sequence}:{enrolment.id}",
                kind=MessageKind.SESSION_CHANGED,
                payload={
                    "session_id": course_session.id,
                    "enrolment_id": enrolment.id,
                    "employee_id": enrolment.employee_id,
                    "sequence": course_session.sequence,
                },
            )
    promote_waitlisted(db_session, course_session)
    return course_session


def cancel_session(
    db_session: DbSession, course_session: CourseSession, *, actor: User, reason: str = ""
) -> list[Enrolment]:
    """Call a session off: everyone booked or waiting is released and told."""
    _require_hr(actor)
    course_session = lock_session(db_session, course_session.id)  # nobody books meanwhile
    if course_session.cancelled_at is not None:
        raise SessionNotBookable("cancelled")
    released = _active_enrolments(db_session, course_session)
    previous = {enrolment.id: enrolment.status for enrolment in released}
    course_session.cancelled_at = utcnow()
    course_session.sequence += 1
    course_session.seats_taken = 0
    for enrolment in released:
        enrolment.status = EnrolmentStatus.CANCELLED.value
        enrolment.waitlisted_at = None
        enrolment.waitlist_number = None
    db_session.flush()
    for enrolment in released:
        record_event(
            db_session,
            enrolment,
            EnrolmentAction.SESSION_CANCELLED,
            actor=actor,
            note=reason[:500],
            previous_status=previous[enrolment.id],
        )
    return released


# --- helpers ---------------------------------------------------------------------------------


def _active_enrolments(db_session: DbSession, course_session: CourseSession) -> list[Enrolment]:
    return list(
        db_session.scalars(
            select(Enrolment)
            .where(Enrolment.session_id == course_session.id, Enrolment.status.in_(ACTIVE_STATUSES))
            .order_by(Enrolment.id)
        )
    )


def _require_hr(actor: User) -> None:
    if not actor.has_role(Role.HR):
        raise NotAllowed(actor.email)


def _check_course(db_session: DbSession, data: CourseData, *, course: Course | None) -> None:
    errors: dict[str, str] = {}
    clash = db_session.scalar(select(Course).where(Course.code == data.code.strip()))
    if clash is not None and clash is not course:
        errors["code"] = _l("Another course already has this code.")
    if data.default_capacity < 1:
        errors["default_capacity"] = _l("The capacity must be at least 1.")
    if data.duration_minutes < 1:
        errors["duration_minutes"] = _l("The duration must be at least 1 minute.")
    if data.validity_months is not None and data.validity_months < 1:
        errors["validity_months"] = _l("Leave empty for unlimited validity, or give months.")
    if errors:
        raise InvalidInput(errors)


def _check_session(data: SessionData, *, seats_taken: int, now: datetime | None) -> None:
    errors: dict[str, str] = {}
    if data.ends_at <= data.starts_at:
        errors["ends_at"] = _l("The end must be after the start.")
    if now is not None and date_has_begun(data.starts_at, now):
        errors["starts_at"] = _l("A new date must lie in the future.")
    if data.capacity < 1:
        errors["capacity"] = _l("The capacity must be at least 1.")
    elif data.capacity < seats_taken:
        errors["capacity"] = _l(
            "%(taken)d seats are already booked; the capacity cannot be lower.", taken=seats_taken
        )
    if data.min_participants < 0:
        errors["min_participants"] = _l("The minimum cannot be negative.")
    for name in ("enrolment_deadline", "cancellation_deadline"):
        deadline = getattr(data, name)
        if deadline is not None and deadline > data.starts_at:
            errors[name] = _l("The deadline must not be after the start.")
    if errors:
        raise InvalidInput(errors)

"""The course catalogue, dated sessions, enrolments and the completions they produce."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import UTCDateTime, sql_values, utcnow
from app.extensions import Model
from app.staff.models import Employee


class CourseFormat(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    BLENDED = "blended"
    ELEARNING = "elearning"


class EnrolmentStatus(enum.StrEnum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    EXCUSED = "excused"


class EnrolmentAction(enum.StrEnum):
    """What happened to an enrolment; each is one row of its history."""

    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"
    SESSION_CANCELLED = "session_cancelled"
    MOVED_AWAY = "moved_away"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    EXCUSED = "excused"


#: Statuses that hold a seat or a place in line.
ACTIVE_STATUSES = (EnrolmentStatus.BOOKED.value, EnrolmentStatus.WAITLISTED.value)
#: Statuses that held a seat when the session took place.
SEATED_STATUSES = (
    EnrolmentStatus.BOOKED.value,
    EnrolmentStatus.ATTENDED.value,
    EnrolmentStatus.NO_SHOW.value,
    EnrolmentStatus.EXCUSED.value,
)


def date_has_begun(starts_at: datetime, now: datetime) -> bool:
    """A date has begun from its start time on: from then on nobody books, cancels or moves,
    and attendance may be recorded. (Also takes a column, and then gives the SQL condition.)"""
    return starts_at <= now


class Course(Model):
    """An entry of the catalogue."""

    __tablename__ = "courses"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = (
        "code",
        "title",
        "format",
        "language",
        "duration_minutes",
        "default_capacity",
        "trainer",
        "validity_months",
        "archived",
    )
    __audit_entity__ = "course"
    __table_args__ = (
        CheckConstraint(f"format IN ({sql_values(CourseFormat)})", name="format_known"),
        CheckConstraint("default_capacity > 0", name="default_capacity_positive"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("validity_months IS NULL OR validity_months > 0", name="validity_positive"),
        CheckConstraint("language IN ('de', 'en')", name="language_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    learning_goals: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(20), default=CourseFormat.IN_PERSON.value)
    language: Mapped[str] = mapped_column(String(5), default="de")
    duration_minutes: Mapped[int] = mapped_column(default=180)
    default_capacity: Mapped[int] = mapped_column(default=16)
    trainer: Mapped[str] = mapped_column(String(200), default="")
    #: How long a completion counts; None means it never expires.
    validity_months: Mapped[int | None]
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course", order_by="CourseSession.starts_at"
    )

    def __repr__(self) -> str:
        return f"<Course {self.code}>"


class CourseSession(Model):
    """One dated run of a course (Termin). Times are stored in UTC, shown in Europe/Berlin."""

    __tablename__ = "course_sessions"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = (
        "course_id",
        "starts_at",
        "ends_at",
        "location",
        "online_url",
        "capacity",
        "min_participants",
        "trainer",
        "enrolment_deadline",
        "cancellation_deadline",
        "cancelled_at",
    )
    __audit_entity__ = "session"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"
        ),
        CheckConstraint("min_participants >= 0", name="min_participants_not_negative"),
        CheckConstraint(
            "enrolment_deadline IS NULL OR enrolment_deadline <= starts_at",
            name="enrolment_deadline_before_start",
        ),
        CheckConstraint(
            "cancellation_deadline IS NULL OR cancellation_deadline <= starts_at",
            name="cancellation_deadline_before_start",
        ),
        Index("ix_course_sessions_course_starts", "course_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int]
    #: Booked seats, kept by a conditional UPDATE so concurrent enrolments never overbook.
    seats_taken: Mapped[int] = mapped_column(default=0)
    min_participants: Mapped[int] = mapped_column(default=0)
    trainer: Mapped[str] = mapped_column(String(200), default="")
    enrolment_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Raised on every change, so calendar clients update their entry (iCalendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="sessions")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="session")

    @property
    def free_seats(self) -> int:
        return self.capacity - self.seats_taken

    @hybrid_method
    def has_begun(self, now: datetime) -> bool:
        """Whether the date has begun at ``now``; on the class, the same as an SQL condition."""
        return date_has_begun(self.starts_at, now)


class Enrolment(Model):
    """Employee × session (Anmeldung)."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("session_id", "employee_id", name="uq_enrolments_session_employee"),
        CheckConstraint(f"status IN ({sql_values(EnrolmentStatus)})", name="status_known"),
        Index("ix_enrolments_session_status", "session_id", "status"),
        CheckConstraint(
            "status <> 'waitlisted' OR waitlisted_at IS NOT NULL", name="waitlisted_has_time"
        ),
        CheckConstraint(
            "(status = 'waitlisted') = (waitlist_number IS NOT NULL)",
            name="waitlisted_has_number",
        ),
        UniqueConstraint(
            "session_id", "waitlist_number", name="uq_enrolments_session_waitlist_number"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    #: When the person joined the waiting list (shown; the order is ``waitlist_number``).
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Place in the date's waiting-list order: drawn under the date's lock when the person
    #: joins (the next after the highest so far), so it is unique and follows the joins' order.
    waitlist_number: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[CourseSession] = relationship(back_populates="enrolments")
    employee: Mapped[Employee] = relationship()
    events: Mapped[list[EnrolmentEvent]] = relationship(
        back_populates="enrolment", order_by="EnrolmentEvent.id", cascade="all, delete-orphan"
    )


#: The order a date's waiting list is served in, first in line first: the promotion, the
#: places people are told and the participants list all sort by it.
WAITING_LIST_ORDER = (Enrolment.waitlist_number,)


class EnrolmentEvent(Model):
    """One step in an enrolment's history: who did what, when, and whether a deadline was
    overridden (only HR may do that, and it is recorded here)."""

    __tablename__ = "enrolment_events"
    __table_args__ = (
        CheckConstraint(f"action IN ({sql_values(EnrolmentAction)})", name="action_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(30))
    #: The login that caused it; None for the system (e.g. a waitlist promotion).
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    deadline_overridden: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="events")


class SeatCountRepair(Model):
    """The nightly check found a date whose seat counter disagreed with its bookings and put
    it right (or, when more are booked than seats exist, could not: ``repaired`` is false)."""

    __tablename__ = "seat_count_repairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("course_sessions.id", ondelete="CASCADE"), index=True
    )
    #: The counter as found, and the number of booked enrolments it should have said.
    seats_taken_found: Mapped[int]
    booked: Mapped[int]
    repaired: Mapped[bool]
    #: People moved up from the waiting list into seats the repair freed.
    promoted: Mapped[int] = mapped_column(default=0)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    course_session: Mapped[CourseSession] = relationship()


class Completion(Model):
    """Proof (Nachweis) that an employee completed a course on a date; valid until it expires."""

    __tablename__ = "completions"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = ("employee_id", "course_id", "completed_on", "valid_until", "session_id")
    __audit_entity__ = "completion"
    __table_args__ = (
        UniqueConstraint(
            "employee_id", "course_id", "completed_on", name="uq_completions_employee_course_date"
        ),
        CheckConstraint(
            "valid_until IS NULL OR valid_until >= completed_on", name="valid_after_completion"
        ),
        Index("ix_completions_employee_course", "employee_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    completed_on: Mapped[date]
    #: Last day the completion counts; None when the course never expires.
    valid_until: Mapped[date | None]
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_sessions.id", ondelete="SET NULL")
    )
    certificate_ref: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee: Mapped[Employee] = relationship()
    course: Mapped[Course] = relationship()
    session: Mapped[CourseSession | None] = relationship()


class CalendarFeed(Model):
    """A person's private calendar subscription: their booked dates as one iCalendar feed.

    The address holds a token derived from ``nonce`` with the app's secret key, so this table
    alone does not reveal a working address; a new nonce retires the old address at once."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), unique=True
    )
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The last time a calendar fetched the feed (shown to the person).
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    employee: Mapped[Employee] = relationship()

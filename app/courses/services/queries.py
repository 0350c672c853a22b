"""Read-only views of the catalogue, the sessions and a person's trainings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import contains_eager, joinedload

from app.core.clock import local_today
from app.core.paging import Page, page_of
from app.core.sql import plain_rows
from app.core.types import BERLIN, DbSession, utcnow
from app.courses.models import (
    ACTIVE_STATUSES,
    SEATED_STATUSES,
    WAITING_LIST_ORDER,
    Completion,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
)
from app.staff.models import Department, Employee
from app.staff.services import employee_matches, subtree_condition


@dataclass(frozen=True, slots=True)
class BookedDate:
    """One of a person's coming bookings (booked or on the waiting list), as plain values."""

    enrolment_id: int
    status: str
    session_id: int
    starts_at: datetime
    location: str
    online_url: str
    course_title: str


@dataclass(frozen=True, slots=True)
class CompletionLine:
    """One of a person's completions, as plain values."""

    completion_id: int
    course_title: str
    completed_on: date
    valid_until: date | None


@dataclass(frozen=True)
class EmployeeOverview:
    upcoming: list[BookedDate]
    completions: list[CompletionLine]
    #: Whether there are more completions than listed (``completions_limit``).
    more_completions: bool = False


@dataclass(frozen=True)
class CityFigures:
    employees: int
    departments: int
    courses: int
    upcoming_sessions: int
    valid_completions: int


def employee_overview(
    db_session: DbSession, employee: Employee, *, completions_limit: int | None = None
) -> EmployeeOverview:
    """A person's coming bookings, soonest first, and their completions, newest first (the
    newest ``completions_limit`` of them when given). Plain values, no ORM objects: every
    employee's start page shows them."""
    upcoming = [
        BookedDate(*row)
        for row in plain_rows(
            db_session, _upcoming_bookings(), {"employee_id": employee.id, "now": utcnow()}
        )
    ]
    completions = completions_of(
        db_session, employee, limit=None if completions_limit is None else completions_limit + 1
    )
    more = completions_limit is not None and len(completions) > completions_limit
    return EmployeeOverview(
        upcoming=upcoming,
        completions=completions[:completions_limit] if more else completions,
        more_completions=more,
    )


def completions_of(
    db_session: DbSession, employee: Employee, *, limit: int | None = None
) -> list[CompletionLine]:
    """A person's completions, newest first (the newest ``limit`` of them when given)."""
    return [
        CompletionLine(*row)
        for row in plain_rows(
            db_session,
            _completions(limit is not None),
            {"employee_id": employee.id, "limit": limit},
        )
    ]


#: The statuses of a booking whose date is still to come ("Meine Termine").
UPCOMING_STATUSES = (EnrolmentStatus.BOOKED.value, EnrolmentStatus.WAITLISTED.value)

# A person's own pages (the start page, Meine Schulungen) run these statements, built once with
# bound parameters: constructing them anew on every request cost more than running them.


@cache
def _upcoming_bookings() -> Select[int, str, int, datetime, str, str, str]:
    return (
        select(
            Enrolment.id,
            Enrolment.status,
            CourseSession.id,
            CourseSession.starts_at,
            CourseSession.location,
            CourseSession.online_url,
            Course.title,
        )
        .join(Enrolment.session)
        .join(CourseSession.course)
        .where(
            Enrolment.employee_id == bindparam("employee_id", type_=Integer),
            Enrolment.status.in_(UPCOMING_STATUSES),
            ~CourseSession.has_begun(bindparam("now", type_=DateTime(timezone=True))),  # type: ignore[arg-type]
        )
        .order_by(CourseSession.starts_at, CourseSession.id)
    )


@cache
def _completions(limited: bool) -> Select[int, str, date, date | None]:
    query = (
        select(Completion.id, Course.title, Completion.completed_on, Completion.valid_until)
        .join(Completion.course)
        .where(Completion.employee_id == bindparam("employee_id", type_=Integer))
        .order_by(Completion.completed_on.desc(), Completion.id.desc())
    )
    return query.limit(bindparam("limit", type_=Integer)) if limited else query


@cache
def _history() -> Select[Enrolment]:
    return (
        select(Enrolment)
        .join(Enrolment.session)
        .where(Enrolment.employee_id == bindparam("employee_id", type_=Integer))
        .options(joinedload(Enrolment.session).joinedload(CourseSession.course))
        .order_by(CourseSession.starts_at.desc(), CourseSession.id.desc())
    )


def city_figures(db_session: DbSession, *, today: date | None = None) -> CityFigures:
    """Headline numbers for HR's start page, each one COUNT in SQL."""
    today = today or local_today()
    valid = (Completion.valid_until.is_(None)) | (Completion.valid_until >= today)
    return CityFigures(
        employees=db_session.execute(
            select(func.count(Employee.id)).where(Employee.active.is_(True))
        ).scalar_one(),
        departments=db_session.execute(select(func.count(Department.id))).scalar_one(),
        courses=db_session.execute(
            select(func.count(Course.id)).where(Course.archived.is_(False))
        ).scalar_one(),
        upcoming_sessions=db_session.execute(
            select(func.count(CourseSession.id)).where(
                ~CourseSession.has_begun(utcnow()), CourseSession.cancelled_at.is_(None)
            )
        ).scalar_one(),
        valid_completions=db_session.execute(
            select(func.count(func.distinct(Completion.employee_id))).where(valid)
        ).scalar_one(),
    )


def list_courses(db_session: DbSession, *, include_archived: bool = False) -> list[Course]:
    query = select(Course).order_by(Course.title)
    if not include_archived:
        query = query.where(Course.archived.is_(False))
    return list(db_session.scalars(query))


@dataclass(frozen=True)
class SessionFilter:
    course_id: int | None = None
    #: Any of these courses (e.g. the courses that fulfil a requirement).
    course_ids: tuple[int, ...] | None = None
    #: "2027-03": sessions starting in that month (Berlin time)
    month: str | None = None
    language: str | None = None
    format: str | None = None
    #: Only dates an employee can still enrol on themself (the enrolment deadline not passed).
    open_for_enrolment: bool = False


def find_sessions(
    db_session: DbSession, session_filter: SessionFilter, *, limit: int = 200, offset: int = 0
) -> list[CourseSession]:
    """Upcoming, bookable sessions matching the filter, soonest first (``limit`` of them after
    the first ``offset``)."""
    now = utcnow()
    query = (
        select(CourseSession)
        .join(CourseSession.course)
        .where(*_upcoming(now, open_for_enrolment=session_filter.open_for_enrolment))
        .options(joinedload(CourseSession.course))
        .order_by(CourseSession.starts_at, CourseSession.id)
        .limit(limit)
        .offset(offset)
    )
    if session_filter.course_id:
        query = query.where(CourseSession.course_id == session_filter.course_id)
    if session_filter.course_ids is not None:
        query = query.where(CourseSession.course_id.in_(session_filter.course_ids))
    if session_filter.language:
        query = query.where(Course.language == session_filter.language)
    if session_filter.format:
        query = query.where(Course.format == session_filter.format)
    if session_filter.month:
        first, after = _month_bounds(session_filter.month)
        query = query.where(CourseSession.starts_at >= first, CourseSession.starts_at < after)
    return list(db_session.scalars(query))


def _upcoming(
    now: datetime | ColumnElement[datetime], *, open_for_enrolment: bool
) -> list[ColumnElement[bool]]:
    """Dates not begun, not cancelled, of courses still offered (and, when asked, whose
    enrolment deadline has not passed: a person can still book them themself)."""
    conditions = [
        # On the class, has_begun is SQL and takes a bound parameter for now as well.
        ~CourseSession.has_begun(now),  # type: ignore[arg-type]
        CourseSession.cancelled_at.is_(None),
        Course.archived.is_(False),
    ]
    if open_for_enrolment:
        conditions.append(
            or_(CourseSession.enrolment_deadline.is_(None), CourseSession.enrolment_deadline >= now)
        )
    return conditions


def next_open_session_ids(
    course_ids: Sequence[int] | Select[tuple[int]],
    per_course: int | ColumnElement[int],
    *,
    now: datetime | ColumnElement[datetime] | None = None,
) -> Select[tuple[int]]:
    """A SELECT of the ids of the next ``per_course`` dates of each of these courses (or of the
    courses a SELECT yields) that a person can still book themself at ``now`` (default: now;
    a bound parameter in a statement built once)."""
    rank = (
        func.row_number()
        .over(
            partition_by=CourseSession.course_id,
            order_by=(CourseSession.starts_at, CourseSession.id),
        )
        .label("rank")
    )
    ranked = (
        select(CourseSession.id, rank)
        .join(CourseSession.course)
        .where(
            CourseSession.course_id.in_(
                course_ids if isinstance(course_ids, Select) else list(course_ids)
            ),
            *_upcoming(utcnow() if now is None else now, open_for_enrolment=True),
        )
        .subquery("ranked")
    )
    return select(ranked.c.id).where(ranked.c.rank <= per_course)


def next_open_sessions(
    db_session: DbSession, course_ids: Sequence[int], *, per_course: int
) -> list[CourseSession]:
    """The next ``per_course`` dates of each of these courses that a person can still book
    themself (as ``find_sessions`` with ``open_for_enrolment``), in one query, soonest first."""
    if not course_ids:
        return []
    return list(
        db_session.scalars(
            select(CourseSession)
            .where(CourseSession.id.in_(next_open_session_ids(course_ids, per_course)))
            .options(joinedload(CourseSession.course))
            .order_by(CourseSession.starts_at, CourseSession.id)
        )
    )


@dataclass(frozen=True, slots=True)
class DateOffer:
    """A date offered for booking on a page: what the page shows of it, read as plain values
    (a page offering dozens of dates builds no ORM objects for them)."""

    id: int
    course_id: int
    course_title: str
    starts_at: datetime
    capacity: int
    seats_taken: int

    @property
    def free_seats(self) -> int:
        return self.capacity - self.seats_taken


#: The columns of a ``DateOffer``, in its order (with ``CourseSession`` joined to ``Course``).
DATE_OFFER_COLUMNS = (
    CourseSession.id,
    CourseSession.course_id,
    Course.title,
    CourseSession.starts_at,
    CourseSession.capacity,
    CourseSession.seats_taken,
)


def enrolments_of(db_session: DbSession, course_session: CourseSession) -> list[Enrolment]:
    """Everyone ever enrolled on a session: booked first, then the waiting list in order."""
    return list(db_session.scalars(_enrolments(course_session)))


def participants(
    db_session: DbSession,
    course_session: CourseSession,
    *,
    number: int,
    per_page: int,
    text: str = "",
    roots: Sequence[Department] | None = None,
    seated_only: bool = False,
) -> Page[Enrolment] | None:
    """One page of the people enrolled on a session, in the order of ``enrolments_of`` (with
    ``seated_only``: those who held a seat, by name, as on the attendance form), narrowed to
    the subtrees of ``roots`` (a head's staff) and to a search text (name, personnel number,
    e-mail or department); None for a page beyond the last."""
    if seated_only:
        query = (
            select(Enrolment)
            .join(Enrolment.employee)
            .where(
                Enrolment.session_id == course_session.id,
                Enrolment.status.in_(SEATED_STATUSES),
            )
            .options(joinedload(Enrolment.employee).joinedload(Employee.department))
            .order_by(Employee.last_name, Employee.first_name, Enrolment.id)
        )
    else:
        query = _enrolments(course_session)
    if roots is not None or text.strip():
        query = query.join(Employee.department)
    if roots is not None:
        query = query.where(subtree_condition(roots))
    if text.strip():
        query = query.where(employee_matches(text, with_department=True))
    return page_of(db_session, query, number=number, per_page=per_page)


def attendance_summary(db_session: DbSession, course_session: CourseSession) -> dict[str, int]:
    """How many of the seats on a date are recorded as what (``booked``: not yet recorded)."""
    return {
        status: count
        for status, count in db_session.execute(
            select(Enrolment.status, func.count())
            .where(
                Enrolment.session_id == course_session.id,
                Enrolment.status.in_(SEATED_STATUSES),
            )
            .group_by(Enrolment.status)
        )
    }


def enrolment_for(
    db_session: DbSession, course_session: CourseSession, employee: Employee | None
) -> Enrolment | None:
    if employee is None:
        return None
    return db_session.scalar(
        select(Enrolment).where(
            Enrolment.session_id == course_session.id, Enrolment.employee_id == employee.id
        )
    )


def history_of(db_session: DbSession, employee: Employee) -> list[Enrolment]:
    """All of a person's enrolments, newest session first."""
    return list(db_session.scalars(_history(), {"employee_id": employee.id}))


def booking_candidates(
    db_session: DbSession,
    *,
    course_session: CourseSession,
    roots: Sequence[Department],
    untrained_only: bool,
    number: int,
    per_page: int,
    text: str = "",
    today: date | None = None,
) -> Page[Employee] | None:
    """A page of the active staff of the given subtrees not yet on this session, by name; with
    ``untrained_only``, only those without a valid completion of the course and not booked on
    another of its dates; with ``text``, those whose name or number contains it."""
    today = today or local_today()
    query = (
        select(Employee)
        .join(Employee.department)
        .where(
            Employee.active.is_(True),
            subtree_condition(roots),
            ~exists().where(
                Enrolment.employee_id == Employee.id,
                Enrolment.session_id == course_session.id,
                Enrolment.status.in_(ACTIVE_STATUSES),
            ),
        )
        .options(contains_eager(Employee.department))
        .order_by(Employee.last_name, Employee.first_name, Employee.id)
    )
    if text.strip():
        query = query.where(employee_matches(text, with_department=True))
    if untrained_only:
        valid = exists().where(
            Completion.employee_id == Employee.id,
            Completion.course_id == course_session.course_id,
            or_(Completion.valid_until.is_(None), Completion.valid_until >= today),
        )
        booked_elsewhere = exists().where(
            Enrolment.employee_id == Employee.id,
            Enrolment.status.in_(ACTIVE_STATUSES),
            Enrolment.session_id.in_(
                select(CourseSession.id).where(
                    CourseSession.course_id == course_session.course_id,
                    ~CourseSession.has_begun(utcnow()),
                    CourseSession.cancelled_at.is_(None),
                )
            ),
        )
        query = query.where(~valid, ~booked_elsewhere)
    return page_of(db_session, query, number=number, per_page=per_page)


def _enrolments(course_session: CourseSession) -> Select[Enrolment]:
    order = case(
        (Enrolment.status == EnrolmentStatus.BOOKED.value, 0),
        (Enrolment.status == EnrolmentStatus.ATTENDED.value, 0),
        (Enrolment.status == EnrolmentStatus.NO_SHOW.value, 0),
        (Enrolment.status == EnrolmentStatus.EXCUSED.value, 0),
        (Enrolment.status == EnrolmentStatus.WAITLISTED.value, 1),
        else_=2,
    )
    return (
        select(Enrolment)
        .join(Enrolment.employee)
        .where(Enrolment.session_id == course_session.id)
        .options(joinedload(Enrolment.employee).joinedload(Employee.department))
        .order_by(order, *WAITING_LIST_ORDER, Employee.last_name, Employee.first_name, Enrolment.id)
    )


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    year, number = (int(part) for part in month.split("-"))
    first = datetime(year, number, 1, tzinfo=BERLIN)
    after = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=BERLIN)
    return first, after

"""Keeping the rules: requirements with their courses and audiences, and exemptions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, Integer, Select, bindparam, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.core.roles import Role
from app.core.sql import plain_rows
from app.core.types import DbSession, utcnow
from app.courses.models import Course, CourseSession
from app.courses.services.queries import (
    DATE_OFFER_COLUMNS,
    DateOffer,
    next_open_session_ids,
    next_open_sessions,
)
from app.requirements.models import (
    AudienceKind,
    AudienceRule,
    Exemption,
    Requirement,
    requirement_courses,
)
from app.requirements.status import Status, due_soon_until, status_query
from app.staff.models import Department, Employee


class RequirementError(Exception):
    pass


class NotAllowed(RequirementError):
    pass


class InvalidRequirement(RequirementError):
    """``errors`` maps a form field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class RequirementData:
    name: str
    courses: Sequence[Course]
    everyone: bool = False
    include_departments: Sequence[Department] = ()
    include_positions: Sequence[str] = ()
    exclude_departments: Sequence[Department] = ()
    exclude_positions: Sequence[str] = ()
    first_due_date: date | None = None
    grace_days: int | None = None
    renewal_months: int | None = None
    renewal_window_days: int | None = None
    cycle_month: int | None = None
    cycle_day: int | None = None
    description: str = ""
    active: bool = True
    extra_errors: dict[str, str] = field(default_factory=dict)


def save_requirement(
    db_session: DbSession, *, data: RequirementData, actor: User, requirement: Requirement | None
) -> Requirement:
    """Create or change a requirement; a rule without audience, course or due date is refused."""
    if not actor.has_role(Role.HR):
        raise NotAllowed(actor.email)
    errors = dict(data.extra_errors)
    name = data.name.strip()
    clash = db_session.scalar(select(Requirement).where(Requirement.name == name))
    if clash is not None and clash is not requirement:
        errors["name"] = _l("Another requirement already has this name.")
    if not data.courses:
        errors["courses"] = _l("Choose at least one course that fulfils the requirement.")
    if not (data.everyone or data.include_departments or data.include_positions):
        errors["everyone"] = _l("Say who must take part: everyone, departments or positions.")
    if data.first_due_date is None and data.grace_days is None:
        errors["first_due_date"] = _l("Give a first due date, or days after the entry date.")
    if data.grace_days is not None and data.grace_days < 0:
        errors["grace_days"] = _l("The number of days cannot be negative.")
    if data.renewal_months is not None and data.renewal_months < 1:
        errors["renewal_months"] = _l("Leave empty for no renewal, or give months.")
    if (data.cycle_month is None) != (data.cycle_day is None):
        errors["cycle_day"] = _l("A yearly cycle needs both a day and a month.")
    elif data.cycle_month is not None and data.renewal_months is not None:
        errors["cycle_day"] = _l("Renew either every few months or on a yearly day, not both.")
    elif (
        data.cycle_month is not None
        and data.cycle_day is not None
        and not (1 <= data.cycle_day <= 28 and 1 <= data.cycle_month <= 12)
    ):
        errors["cycle_day"] = _l("Choose a day from 1 to 28 and a month from 1 to 12.")
    if data.renewal_window_days is not None and data.renewal_months is None:
        errors["renewal_window_days"] = _l("A renewal window needs a renewal in months.")
    if errors:
        raise InvalidRequirement(errors)
    if requirement is None:
        requirement = Requirement(name=name)
        db_session.add(requirement)
    requirement.name = name
    requirement.description = data.description.strip()
    requirement.courses = list(data.courses)
    requirement.first_due_date = data.first_due_date
    requirement.grace_days = data.grace_days
    requirement.renewal_months = data.renewal_months
    requirement.renewal_window_days = data.renewal_window_days
    requirement.cycle_month = data.cycle_month
    requirement.cycle_day = data.cycle_day
    requirement.active = data.active
    requirement.audience = _audience(data)
    db_session.flush()
    return requirement


def add_exemption(
    db_session: DbSession,
    *,
    employee: Employee,
    requirement: Requirement,
    reason: str,
    starts_on: date,
    ends_on: date | None,
    actor: User,
) -> Exemption:
    """Take a person out of a requirement's scope for a while, with a reason."""
    if not actor.has_role(Role.HR):
        raise NotAllowed(actor.email)
    errors = {}
    if not reason.strip():
        errors["reason"] = _l("Give a reason.")
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _l("The end must not be before the start.")
    if errors:
        raise InvalidRequirement(errors)
    exemption = Exemption(
        employee=employee,
        requirement=requirement,
        reason=reason.strip()[:300],
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_user_id=actor.id,
    )
    db_session.add(exemption)
    db_session.flush()
    return exemption


def end_exemption(db_session: DbSession, exemption: Exemption, *, today: date, actor: User) -> None:
    """End an exemption today (the person is in scope again tomorrow)."""
    if not actor.has_role(Role.HR):
        raise NotAllowed(actor.email)
    exemption.ends_on = max(today, exemption.starts_on)
    db_session.flush()


#: The statuses whose requirement offers dates to book (the others are met or waived).
OPEN_STATUSES = (Status.OVERDUE.value, Status.DUE_SOON.value, Status.PENDING.value)


@dataclass(frozen=True, slots=True)
class MyRequirement:
    """One of a person's requirements with its status on a day, as plain values."""

    requirement_id: int
    name: str
    status: str
    due_date: date | None
    valid_until: date | None


def my_requirements(
    db_session: DbSession,
    employee: Employee,
    *,
    today: date,
    due_soon_days: int,
    dates_per_requirement: int = 3,
    dates_for_first: int | None = None,
) -> list[tuple[MyRequirement, list[DateOffer]]]:
    """The employee's requirements with their status, soonest due first, each still to be met
    with the next ``dates_per_requirement`` dates that would fulfil it ("Meine
    Pflichtschulungen"). Two queries however many requirements and dates; plain values, no
    ORM objects (the start page of every employee shows it)."""
    rows = [
        MyRequirement(*row)
        for row in plain_rows(
            db_session,
            _my_requirements_statement(),
            {
                "today": today,
                "soon": due_soon_until(today, due_soon_days),
                "employee_id": employee.id,
            },
        )
    ]
    # Dates for every requirement still to be met (or, with ``dates_for_first``, for those
    # among the first so many rows: a page listing only those).
    open_ids = [row.requirement_id for row in rows[:dates_for_first] if row.status in OPEN_STATUSES]
    dates: dict[int, list[DateOffer]] = {}
    for requirement_id, offer in next_open_dates_of_requirements(
        db_session, open_ids, per_course=dates_per_requirement
    ):
        offers = dates.setdefault(requirement_id, [])
        if len(offers) < dates_per_requirement:
            offers.append(offer)
    return [(row, dates.get(row.requirement_id, [])) for row in rows]


def next_open_dates_of_requirements(
    db_session: DbSession, requirement_ids: Sequence[int], *, per_course: int
) -> list[tuple[int, DateOffer]]:
    """(requirement id, date) for the next ``per_course`` dates (as ``next_open_sessions``) of
    each course that fulfils one of these requirements, soonest first, in one query."""
    rows: Iterable[Sequence[Any]] = plain_rows(
        db_session,
        _next_open_dates_statement(),
        {"requirement_ids": list(requirement_ids), "per_course": per_course, "now": utcnow()},
    )
    return [(row[0], DateOffer(*row[1:])) for row in rows]


# The start page's two statements, built once and run with their values as parameters:
# building them anew on every request took a quarter of the page's time (SQLAlchemy compiles
# a statement once either way; what it repeated was constructing it and its cache key).


@cache
def _my_requirements_statement() -> Select[int, str, str, date, date]:
    statuses = status_query(
        today=bindparam("today", type_=Date),
        soon=bindparam("soon", type_=Date),
        due_soon_days=0,
        employee_id=bindparam("employee_id", type_=Integer),
    ).subquery()
    return (
        select(
            statuses.c.requirement_id,
            Requirement.name,
            statuses.c.status,
            statuses.c.due_date,
            statuses.c.valid_until,
        )
        .join(Requirement, Requirement.id == statuses.c.requirement_id)
        .order_by(statuses.c.due_date, Requirement.name, Requirement.id)
    )


@cache
def _next_open_dates_statement() -> Select[Any]:
    ids = bindparam("requirement_ids", expanding=True, type_=Integer)
    courses = select(requirement_courses.c.course_id).where(
        requirement_courses.c.requirement_id.in_(ids)
    )
    per_course = bindparam("per_course", type_=Integer)
    now = bindparam("now", type_=DateTime(timezone=True))
    return (
        select(requirement_courses.c.requirement_id, *DATE_OFFER_COLUMNS)
        .select_from(CourseSession)
        .join(CourseSession.course)
        .join(requirement_courses, requirement_courses.c.course_id == CourseSession.course_id)
        .where(
            requirement_courses.c.requirement_id.in_(ids),
            CourseSession.id.in_(next_open_session_ids(courses, per_course, now=now)),
        )
        .order_by(CourseSession.starts_at, CourseSession.id)
    )


def load_courses(db_session: DbSession, requirement_ids: Iterable[int]) -> None:
    """Load the courses of these requirements in one query (the session keeps them), so a page
    listing rows of many requirements does not lazy-load them one requirement at a time."""
    ids = set(requirement_ids)
    if ids:
        db_session.scalars(
            select(Requirement)
            .where(Requirement.id.in_(ids))
            .options(selectinload(Requirement.courses))
        ).all()


#: How many next dates a requirement offers (page and reminders).
NEXT_DATES = 3


def _next_of(
    requirement: Requirement, upcoming: list[CourseSession], limit: int = NEXT_DATES
) -> list[CourseSession]:
    """The soonest ``limit`` of the dates (soonest first) of the requirement's courses."""
    courses = {course.id for course in requirement.courses}
    return [s for s in upcoming if s.course_id in courses][:limit]


def next_sessions(
    db_session: DbSession, requirement: Requirement, *, limit: int = NEXT_DATES
) -> list[CourseSession]:
    """The next dates of any course that fulfils ``requirement`` that the person can still book
    themself (offered with a one-click button, and in reminders)."""
    course_ids = [course.id for course in requirement.courses]
    return _next_of(
        requirement, next_open_sessions(db_session, course_ids, per_course=limit), limit
    )


def list_requirements(db_session: DbSession) -> list[Requirement]:
    return list(db_session.scalars(select(Requirement).order_by(Requirement.name)))


def exemptions_of(db_session: DbSession, requirement: Requirement) -> list[Exemption]:
    return list(
        db_session.scalars(
            select(Exemption)
            .where(Exemption.requirement_id == requirement.id)
            .order_by(Exemption.starts_on.desc())
        )
    )


def _audience(data: RequirementData) -> list[AudienceRule]:
    rules = []
    if data.everyone:
        rules.append(AudienceRule(kind=AudienceKind.ALL.value))
    for exclude, departments, positions in (
        (False, data.include_departments, data.include_positions),
        (True, data.exclude_departments, data.exclude_positions),
    ):
        rules += [
            AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=d, exclude=exclude)
            for d in departments
        ]
        rules += [
            AudienceRule(kind=AudienceKind.POSITION.value, position=p.strip(), exclude=exclude)
            for p in positions
            if p.strip()
        ]
    return rules

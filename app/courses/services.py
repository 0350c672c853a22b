"""Reading the catalogue and a person's trainings. (Booking rules arrive with enrolment.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.core.types import utcnow
from app.courses.models import Completion, Course, CourseSession, Enrolment, EnrolmentStatus
from app.staff.models import Department, Employee


@dataclass(frozen=True)
class EmployeeOverview:
    upcoming: list[Enrolment]
    completions: list[Completion]


@dataclass(frozen=True)
class CityFigures:
    employees: int
    departments: int
    courses: int
    upcoming_sessions: int
    valid_completions: int


def employee_overview(db_session: Session, employee: Employee) -> EmployeeOverview:
    """A person's coming sessions and their completions, newest first."""
    upcoming = db_session.scalars(
        select(Enrolment)
        .join(Enrolment.session)
        .where(
            Enrolment.employee_id == employee.id,
            Enrolment.status.in_([EnrolmentStatus.BOOKED.value, EnrolmentStatus.WAITLISTED.value]),
            CourseSession.starts_at >= utcnow(),
        )
        .options(joinedload(Enrolment.session).joinedload(CourseSession.course))
        .order_by(CourseSession.starts_at)
    )
    completions = db_session.scalars(
        select(Completion)
        .where(Completion.employee_id == employee.id)
        .options(joinedload(Completion.course))
        .order_by(Completion.completed_on.desc())
    )
    return EmployeeOverview(upcoming=list(upcoming), completions=list(completions))


def city_figures(db_session: Session, *, today: date | None = None) -> CityFigures:
    """Headline numbers for HR's start page, each one COUNT in SQL."""
    today = today or date.today()
    valid = (Completion.valid_until.is_(None)) | (Completion.valid_until >= today)
    return CityFigures(
        employees=db_session.scalar(
            select(func.count(Employee.id)).where(Employee.active.is_(True))
        ),
        departments=db_session.scalar(select(func.count(Department.id))),
        courses=db_session.scalar(select(func.count(Course.id)).where(Course.archived.is_(False))),
        upcoming_sessions=db_session.scalar(
            select(func.count(CourseSession.id)).where(
                CourseSession.starts_at >= utcnow(), CourseSession.cancelled_at.is_(None)
            )
        ),
        valid_completions=db_session.scalar(
            select(func.count(func.distinct(Completion.employee_id))).where(valid)
        ),
    )


def list_courses(db_session: Session, *, include_archived: bool = False) -> list[Course]:
    query = select(Course).order_by(Course.title)
    if not include_archived:
        query = query.where(Course.archived.is_(False))
    return list(db_session.scalars(query))


def upcoming_sessions(db_session: Session, *, limit: int = 100) -> list[CourseSession]:
    """Sessions not yet begun and not cancelled, soonest first."""
    return list(
        db_session.scalars(
            select(CourseSession)
            .join(CourseSession.course)
            .where(
                CourseSession.starts_at >= utcnow(),
                CourseSession.cancelled_at.is_(None),
                Course.archived.is_(False),
            )
            .options(joinedload(CourseSession.course))
            .order_by(CourseSession.starts_at)
            .limit(limit)
        )
    )

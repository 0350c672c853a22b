"""Small factories that add rows through the services, as the application would."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from app.auth import services as auth_services
from app.auth.models import User
from app.core.roles import Role
from app.core.types import utcnow
from app.courses.models import Course, CourseSession
from app.extensions import db
from app.staff import services as staff_services
from app.staff.models import Department, Employee

DEFAULT_PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


def department(
    code: str | None = None, *, name: str | None = None, parent: Department | None = None
) -> Department:
    return _department(code, name=name, parent=parent)


def _department(code: str | None, *, name: str | None, parent: Department | None) -> Department:
    n = next(_numbers)
    created = staff_services.create_department(
        db.session, code=code or f"D{n}", name=name or f"Abteilung {n}", parent=parent
    )
    db.session.commit()
    return created


def employee(
    department: Department | None = None,
    *,
    first_name: str = "Erika",
    last_name: str | None = None,
    personnel_number: str | None = None,
    active: bool = True,
    entry_date: date | None = date(2020, 1, 1),
    **fields,
) -> Employee:
    n = next(_numbers)
    created = Employee(
        personnel_number=personnel_number or f"P{n:06d}",
        first_name=first_name,
        last_name=last_name or f"Muster{n}",
        email=fields.pop("email", f"person{n}@stadt.example"),
        department=department or _department(None, name=None, parent=None),
        active=active,
        entry_date=entry_date,
        **fields,
    )
    db.session.add(created)
    db.session.commit()
    return created


def _employee() -> Employee:
    return employee()


def user(
    email: str | None = None,
    *,
    roles: tuple[Role, ...] = (Role.EMPLOYEE,),
    password: str = DEFAULT_PASSWORD,
    employee: Employee | None = None,
    heads: tuple[Department, ...] = (),
    with_employee: bool = True,
) -> User:
    n = next(_numbers)
    if employee is None and with_employee and Role.EMPLOYEE in roles:
        employee = _employee()
    created = auth_services.create_user(
        db.session,
        email=email or f"user{n}@stadt.example",
        password=password,
        roles=roles,
        employee=employee,
        headed_departments=heads,
    )
    db.session.commit()
    return created


def course(code: str | None = None, *, validity_months: int | None = 36, **fields) -> Course:
    n = next(_numbers)
    created = Course(
        code=code or f"K{n}",
        title=fields.pop("title", f"Interkulturelle Kompetenz {n}"),
        validity_months=validity_months,
        **fields,
    )
    db.session.add(created)
    db.session.commit()
    return created


def course_session(
    for_course: Course | None = None,
    *,
    starts_in: timedelta = timedelta(days=30),
    hours: int = 3,
    capacity: int = 10,
    enrolment_deadline: datetime | None = None,
    cancellation_deadline: datetime | None = None,
    **fields,
) -> CourseSession:
    starts_at = utcnow().replace(microsecond=0) + starts_in
    created = CourseSession(
        course=for_course or course(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        capacity=capacity,
        seats_taken=0,
        enrolment_deadline=enrolment_deadline,
        cancellation_deadline=cancellation_deadline,
        **fields,
    )
    db.session.add(created)
    db.session.commit()
    return created

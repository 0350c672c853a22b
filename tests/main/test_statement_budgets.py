"""Each page costs a fixed number of SQL statements, however large the city grows.

The demo city is measured, then grown (more people in the head's unit, more requirements for
everyone, more dates of every course, more participants on the measured date), then measured
again: a page whose count grew runs a query per row or per requirement somewhere.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from app.auth.models import User
from app.core.clock import local_today
from app.core.types import utcnow
from app.courses.models import Course, CourseSession
from app.courses.services import enrolment
from app.demo import DEMO_PASSWORD, seed_demo_city
from app.demo.logins import DEMO_EMPLOYEE, DEMO_PEOPLE
from app.extensions import db as _db
from app.requirements import counts
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from app.staff.models import Department, Employee
from tests.conftest import csrf_token

HR_EMAIL = DEMO_PEOPLE[0].email
HEAD = DEMO_PEOPLE[2]  # head of the Bürgeramt, the demo employee's unit

#: (who, page, most statements): what the page took when the test was written, plus room for
#: a few more (recording who saw whose data, for instance), never room for a query per row.
#: ``{date}`` is the upcoming date with the most participants; ``{person}`` the demo
#: employee's personnel number; ``{unit}`` the head's unit, the demo employee's.
BUDGETS = [
    ("employee", "/", 11),
    ("employee", "/courses/mine", 8),
    ("employee", "/requirements/mine", 9),
    ("employee", "/courses/", 7),
    ("employee", "/courses/sessions/{date}", 8),
    ("head", "/reports/coverage", 13),
    ("head", "/reports/coverage?department={unit}", 13),
    ("head", "/reports/people?department={unit}", 13),
    ("head", "/staff/departments/{unit}", 13),
    ("hr", "/reports/coverage", 11),
    ("hr", "/courses/book-for/{person}", 8),
    ("hr", "/courses/sessions/{date}/attendance", 8),
    ("hr", "/courses/sessions/{date}/book", 9),
    ("hr", "/courses/sessions/{date}", 10),
]


@pytest.fixture
def demo_city(db):
    seed_demo_city(db.session, today=local_today())
    db.session.commit()
    counts.build(db.session, day=local_today(), due_soon_days=30)
    db.session.commit()
    employee = db.session.scalars(select(User).where(User.email == DEMO_EMPLOYEE.email)).one()
    unit = db.session.scalars(select(Department).where(Department.code == HEAD.heads[0])).one()
    a_date = db.session.scalars(
        select(CourseSession)
        .where(CourseSession.starts_at > utcnow(), CourseSession.seats_taken > 0)
        .order_by(CourseSession.seats_taken.desc())
    ).first()
    return {
        "date": a_date.id,
        "person": employee.employee.personnel_number,
        "unit": unit.code,
        "unit_id": unit.id,
    }


def _grow(db, city: dict) -> None:
    """Three times as much of everything a page might walk row by row."""
    unit = db.session.get(Department, city["unit_id"])
    newcomers = []
    for n in range(60):
        person = Employee(
            personnel_number=f"G{n:05d}",
            first_name="Neu",
            last_name=f"Zugang{n}",
            email=f"neu{n}@stadt.example",
            department=unit,
            active=True,
            entry_date=date(2024, 1, 1),
        )
        db.session.add(person)
        newcomers.append(person)
    child = Department(code=f"{unit.code}-X", name="Neue Arbeitsgruppe", parent=unit)
    db.session.add(child)
    db.session.flush()
    courses = list(db.session.scalars(select(Course)))
    for n in range(8):
        course = Course(code=f"GROW{n}", title=f"Zusatzkurs {n}", validity_months=24)
        db.session.add(course)
        requirement = Requirement(
            name=f"Zusatzpflicht {n}", first_due_date=local_today(), courses=[course]
        )
        requirement.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
        db.session.add(requirement)
        courses.append(course)
    db.session.flush()
    for course in courses:
        for days in (10, 20, 30):
            starts = utcnow().replace(microsecond=0) + timedelta(days=days)
            db.session.add(
                CourseSession(
                    course=course,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=3),
                    capacity=200,
                    location="Rathaus",
                )
            )
    db.session.commit()
    measured = db.session.get(CourseSession, city["date"])
    measured.capacity = measured.seats_taken + len(newcomers)
    db.session.commit()
    hr = db.session.scalars(select(User).where(User.email == HR_EMAIL)).one()
    for person in newcomers:
        enrolment.enrol(db.session, employee=person, course_session=measured, actor=hr)
        db.session.commit()
    counts.build(db.session, day=local_today(), due_soon_days=30)
    db.session.commit()


def _statements(client, url: str) -> tuple[int, list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    _db.session.expire_all()
    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, (url, response.status_code)
    sql = [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT"))]
    return len(sql), sql


def _log_in(app, email: str):
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def test_pages_cost_a_fixed_number_of_statements_however_large_the_city(app, db, demo_city):
    logins = {"employee": DEMO_EMPLOYEE.email, "head": HEAD.email, "hr": HR_EMAIL}
    clients = {who: _log_in(app, email) for who, email in logins.items()}
    urls = [(who, page.format(**demo_city), budget) for who, page, budget in BUDGETS]
    before = {(who, url): _statements(clients[who], url) for who, url, _ in urls}
    _grow(db, demo_city)
    after = {(who, url): _statements(clients[who], url) for who, url, _ in urls}

    report = []
    for who, url, budget in urls:
        (small, _), (large, sql) = before[(who, url)], after[(who, url)]
        report.append(f"{who:8} {url:48} {small:3} -> {large:3} (budget {budget})")
    print("\n".join(report))
    for who, url, budget in urls:
        (small, _), (large, sql) = before[(who, url)], after[(who, url)]
        assert large == small, f"{who} {url}: {small} statements grew to {large}\n" + "\n".join(sql)
        assert large <= budget, f"{who} {url}: {large} statements > {budget}\n" + "\n".join(sql)

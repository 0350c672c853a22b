"""Each kind of extreme input named in issue 15 gets a 400, a 404 or a form error (the
property-based sweep over every form is tests/test_extreme_input.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.core.roles import Role
from app.courses.models import CourseSession
from app.courses.services import enrolment
from tests.conftest import csrf_token

HUGE = "9223372036854775808"


@pytest.fixture
def as_hr(client, make, login):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    assert login("hr@stadt.example").status_code == 302
    return client


@pytest.mark.parametrize(
    "path",
    [
        f"/courses/sessions/{HUGE}",
        "/courses/sessions/2147483648",
        f"/courses/course/{HUGE}",
        f"/requirements/{HUGE}",
        f"/auth/users/{HUGE}",
    ],
)
def test_ids_beyond_the_database_are_not_found(as_hr, path):
    assert as_hr.get(path).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"page": HUGE},
        {"course": HUGE},
        {"course": "-2147483649"},
        {"month": "0000-01"},
        {"month": "9999-12"},
    ],
)
def test_query_values_beyond_range_count_as_absent(as_hr, make, query):
    make.course_session(make.course("IKK"))
    assert as_hr.get("/courses/", query_string=query).status_code == 200
    assert as_hr.get("/staff/employees", query_string=query).status_code == 200
    assert as_hr.get("/reports/people", query_string={"requirement": HUGE}).status_code == 200


@pytest.mark.parametrize("where", ["args", "form", "path"])
def test_nul_characters_are_refused(as_hr, where):
    if where == "args":
        response = as_hr.get("/staff/employees", query_string={"q": "Mül\x00ler"})
    elif where == "form":
        token = csrf_token(as_hr, "/courses/course/new")
        response = as_hr.post("/courses/course/new", data={"csrf_token": token, "code": "A\x00"})
    else:
        response = as_hr.get("/staff/departments/D%001")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_participants", HUGE, "kleinere Zahl"),
        ("capacity", HUGE, "kleinere Zahl"),
        ("min_participants", "-" + HUGE, "größere Zahl"),
        ("enrolment_deadline", "0001-01-01T00:00", "Jahren 1900 und 2999"),
        ("starts_at", "9998-12-31T10:00", "Jahren 1900 und 2999"),
    ],
)
def test_a_session_form_with_extreme_values_says_what_is_wrong(
    as_hr, make, db, field, value, message
):
    course = make.course("IKK")
    path = f"/courses/course/{course.id}/sessions/new"
    data = {
        "csrf_token": csrf_token(as_hr, path),
        "starts_at": "2027-03-01T09:00",
        "ends_at": "2027-03-01T12:00",
        "capacity": "12",
        "min_participants": "0",
        field: value,
    }
    response = as_hr.post(path, data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(CourseSession)) is None


def test_a_move_to_a_date_beyond_the_database_is_refused(as_hr, make, db):
    course = make.course("IKK")
    first = make.course_session(course)
    make.course_session(course, starts_in=timedelta(days=60))
    person = make.employee()
    hr = db.session.scalar(select(User))
    booked = enrolment.enrol(db.session, employee=person, course_session=first, actor=hr)
    db.session.commit()
    data = {"csrf_token": csrf_token(as_hr, f"/courses/sessions/{first.id}"), "target": HUGE}
    response = as_hr.post(f"/courses/enrolments/{booked.id}/move", data=data)
    assert response.status_code < 500

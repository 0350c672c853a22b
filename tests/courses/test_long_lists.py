"""A date with hundreds of participants: HR's pages show them a page at a time, with a search,
and the attendance form saves the page it shows and nothing else."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.roles import Role
from app.courses.models import Completion, Enrolment, EnrolmentStatus
from app.extensions import db as _db
from app.staff.models import Employee
from app.staff.services import find_department
from tests.conftest import csrf_token

PARTICIPANTS = 300


def _big_date(make, *, starts_in: timedelta):
    """A date with 300 booked people, in two departments, named so that the name order is
    the number order: Teilnehmer 000 … Teilnehmer 299."""
    kita = make.department("KITA", name="Kita Sonnenblume")
    yard = make.department("BH", name="Betriebshof")
    course_session = make.course_session(capacity=PARTICIPANTS, starts_in=starts_in)
    people = [
        Employee(
            personnel_number=f"T{n:05d}",
            first_name="Vorname",
            last_name=f"Teilnehmer {n:03d}",
            email=f"teilnehmer{n}@stadt.example",
            department=yard if n == 271 else kita,
            active=True,
        )
        for n in range(PARTICIPANTS)
    ]
    _db.session.add_all(people)
    _db.session.flush()
    _db.session.add_all(
        Enrolment(
            session_id=course_session.id,
            employee_id=person.id,
            status=EnrolmentStatus.BOOKED.value,
        )
        for person in people
    )
    course_session.seats_taken = PARTICIPANTS
    _db.session.commit()
    return course_session


def _names(html: str) -> list[str]:
    return re.findall(r"Teilnehmer (\d{3}), Vorname", html)


@pytest.fixture
def per_page(app):
    return app.config["PEOPLE_PER_PAGE"]


def test_a_date_with_300_participants_shows_a_page_of_them_and_the_next_pages_the_rest(
    client, login, make, hr, per_page
):
    course_session = _big_date(make, starts_in=timedelta(days=10))
    login("hr@stadt.example")
    path = f"/courses/sessions/{course_session.id}"

    first = client.get(path).get_data(as_text=True)
    assert len(_names(first)) == per_page < PARTICIPANTS
    assert "300 Personen (1–50 angezeigt)" in first
    # The page links: numbered, the current one marked for screen readers, one more after it.
    assert f'href="{path}?page=1#participants" aria-current="page"' in first
    assert f'href="{path}?page=2#participants" rel="next"' in first

    seen = []
    pages = -(-PARTICIPANTS // per_page)
    for number in range(1, pages + 1):
        html = client.get(f"{path}?page={number}").get_data(as_text=True)
        assert f'?page={number}#participants" aria-current="page"' in html
        seen += _names(html)
    assert seen == [f"{n:03d}" for n in range(PARTICIPANTS)]  # each once, in order
    assert client.get(f"{path}?page={pages + 1}").status_code == 404
    assert client.get(f"{path}?page=0").status_code == 404


def test_the_search_finds_a_participant_by_name_number_or_department(client, login, make, hr):
    course_session = _big_date(make, starts_in=timedelta(days=10))
    login("hr@stadt.example")
    path = f"/courses/sessions/{course_session.id}"

    def found(text: str) -> list[str]:
        return _names(client.get(path, query_string={"q": text}).get_data(as_text=True))

    assert found("teilnehmer 287") == ["287"]  # on the sixth page, any case
    assert found("287, vorname") == ["287"]  # as the list writes names
    assert found("T00013") == ["013"]  # personnel number
    assert found("Betriebshof") == ["271"]  # department
    nobody = client.get(path, query_string={"q": "Niemand"}).get_data(as_text=True)
    assert "Niemand auf diesem Termin passt zur Suche." in nobody


def test_a_head_sees_their_own_staff_on_a_large_date_a_page_at_a_time(client, login, make, db):
    course_session = _big_date(make, starts_in=timedelta(days=10))
    kita = find_department(db.session, "KITA")
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(kita,))
    login("leitung@stadt.example")
    path = f"/courses/sessions/{course_session.id}"
    first = client.get(path).get_data(as_text=True)
    assert "299 Personen (1–50 angezeigt)" in first  # not the one at the Betriebshof
    searched = client.get(path, query_string={"q": "Teilnehmer 27"}).get_data(as_text=True)
    assert _names(searched) == [f"{n:03d}" for n in range(270, 280) if n != 271]


def _radios(html: str) -> dict[str, str]:
    """The checked outcome of each person on the form, as a browser would send it."""
    checked = {}
    for tag in re.findall(r"<input[^>]*type=\"radio\"[^>]*>", html, flags=re.S):
        if re.search(r"\schecked", tag):
            name = re.search(r'name="([^"]+)"', tag).group(1)
            checked[name] = re.search(r'value="([^"]+)"', tag).group(1)
    return checked


def _statuses(db) -> dict[str, str]:
    db.session.expire_all()
    return {
        last_name.removeprefix("Teilnehmer "): status
        for last_name, status in db.session.execute(
            select(Employee.last_name, Enrolment.status).join(Enrolment.employee)
        )
    }


def test_attendance_saved_on_page_two_leaves_page_one_as_it_was(
    client, login, make, hr, db, per_page
):
    course_session = _big_date(make, starts_in=timedelta(days=-1))
    login("hr@stadt.example")
    path = f"/courses/sessions/{course_session.id}/attendance"

    second = client.get(f"{path}?page=2").get_data(as_text=True)
    assert _names(second) == [f"{n:03d}" for n in range(per_page, 2 * per_page)]
    form = _radios(second)
    assert len(form) == per_page and set(form.values()) == {"attended"}  # the default
    absent = re.search(r'name="(outcome-\d+)"[^>]*aria-label="Vorname Teilnehmer 060', second)
    form[absent.group(1)] = "no_show"
    refused = client.post(f"{path}?page=2", data=form)  # no CSRF token: nothing saved
    assert refused.status_code == 400
    response = client.post(f"{path}?page=2", data={**form, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{path}?page=2")  # on with this page

    statuses = _statuses(db)
    assert {statuses[f"{n:03d}"] for n in range(per_page)} == {"booked"}  # page 1 untouched
    assert statuses["060"] == "no_show"
    assert {statuses[f"{n:03d}"] for n in range(per_page, 2 * per_page) if n != 60} == {"attended"}
    assert {statuses[f"{n:03d}"] for n in range(2 * per_page, PARTICIPANTS)} == {"booked"}
    again = client.get(f"{path}?page=2").get_data(as_text=True)
    assert "Teilnehmer 060" in again and _radios(again)[absent.group(1)] == "no_show"


def test_hr_records_the_few_absent_then_everyone_else_at_once(client, login, make, hr, db):
    course_session = _big_date(make, starts_in=timedelta(days=-1))
    login("hr@stadt.example")
    path = f"/courses/sessions/{course_session.id}/attendance"
    # The person who did not come is found by name, wherever they are in the list.
    found = client.get(path, query_string={"q": "Teilnehmer 287"}).get_data(as_text=True)
    assert _names(found) == ["287"]
    assert "300 Personen auf diesem Termin sind noch nicht erfasst." in found
    form = {name: "no_show" for name in _radios(found)}
    form["csrf_token"] = csrf_token(client, path)
    form["others"] = "attended"
    assert client.post(f"{path}?q=Teilnehmer+287", data=form).status_code == 302

    statuses = _statuses(db)
    assert statuses.pop("287") == "no_show"
    assert set(statuses.values()) == {"attended"}
    holders = db.session.scalar(select(func.count(Completion.id)))
    assert holders == PARTICIPANTS - 1


def test_the_people_to_book_come_a_page_at_a_time_and_booking_returns_to_the_rest(
    client, login, make, hr, db, per_page
):
    kita = make.department("KITA", name="Kita Sonnenblume")
    db.session.add_all(
        Employee(
            personnel_number=f"K{n:05d}",
            first_name="Vorname",
            last_name=f"Teilnehmer {n:03d}",
            department=kita,
            active=True,
        )
        for n in range(120)
    )
    db.session.commit()
    course_session = make.course_session(capacity=200)
    login("hr@stadt.example")
    book = f"/courses/sessions/{course_session.id}/book"
    listed = client.get(book, query_string={"department": "KITA", "untrained_only": "y"})
    html = listed.get_data(as_text=True)
    ids = re.findall(r'name="employee_id" value="(\d+)"', html)
    assert len(ids) == per_page and _names(html)[0] == "000"
    assert "120 Personen können angemeldet werden (1–50 angezeigt)" in html
    more = re.search(r'name="more" value="([^"]+)"', html).group(1).replace("&amp;", "&")

    response = client.post(
        book, data={"csrf_token": csrf_token(client, book), "employee_id": ids, "more": more}
    )
    assert response.headers["Location"] == more  # back to the list …
    rest = client.get(more).get_data(as_text=True)
    assert _names(rest)[0] == f"{per_page:03d}"  # … which starts with those still to book
    assert "70 Personen können angemeldet werden" in rest
    searched = client.get(book, query_string={"department": "KITA", "q": "Teilnehmer 119"})
    assert _names(searched.get_data(as_text=True)) == ["119"]

"""The courses pages as people use them: employees book themselves, HR manages."""

import re
from datetime import timedelta

import time_machine
from icalendar import Calendar
from sqlalchemy import select

from app.core.types import utcnow
from app.courses.models import Completion, Course, CourseSession, Enrolment
from tests.conftest import csrf_token


def test_employee_enrols_downloads_ics_and_cancels(client, login, make, staff_user, db):
    course_session = make.course_session(
        make.course(title="Interkulturelle Kompetenz im Bürgerservice"), capacity=2
    )
    login("erika@stadt.example")
    page = client.get("/courses/").get_data(as_text=True)
    assert "Interkulturelle Kompetenz im Bürgerservice" in page
    assert "2 von 2" in page

    path = f"/courses/sessions/{course_session.id}"
    response = client.post(f"{path}/enrol", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "Sie sind angemeldet" in page
    assert "gebucht" in page

    ics = client.get(f"{path}/calendar.ics")
    assert ics.status_code == 200
    assert ics.headers["Content-Type"].startswith("text/calendar")
    event = next(iter(Calendar.from_ical(ics.data).walk("VEVENT")))
    assert str(event["summary"]) == "Interkulturelle Kompetenz im Bürgerservice"

    own = db.session.scalar(select(Enrolment))
    response = client.post(
        f"/courses/enrolments/{own.id}/cancel", data={"csrf_token": csrf_token(client, path)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Enrolment, own.id).status == "cancelled"
    assert db.session.get(CourseSession, course_session.id).seats_taken == 0
    assert client.get(f"{path}/calendar.ics").status_code == 403


def test_full_session_shows_the_waiting_list_position(client, login, make, staff_user, hr, db):
    course_session = make.course_session(capacity=1)
    from app.courses.services import enrolment

    enrolment.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    db.session.commit()
    login("erika@stadt.example")
    path = f"/courses/sessions/{course_session.id}"
    assert "Auf die Warteliste" in client.get(path).get_data(as_text=True)
    client.post(f"{path}/enrol", data={"csrf_token": csrf_token(client, path)})
    page = client.get(path).get_data(as_text=True)
    assert "Warteliste, Nummer 1" in page


def test_enrolling_after_the_deadline_says_so(client, login, make, staff_user, db):
    course_session = make.course_session(
        starts_in=timedelta(days=5), enrolment_deadline=utcnow() + timedelta(hours=1)
    )
    login("erika@stadt.example")
    path = f"/courses/sessions/{course_session.id}"
    token = csrf_token(client, path)
    # Sessions last 12 hours and refuse cookies signed in the future: stay in the travel.
    with time_machine.travel(utcnow() + timedelta(hours=2)):
        client.post(f"{path}/enrol", data={"csrf_token": token})
        page = client.get(path).get_data(as_text=True)
    assert "Die Frist dafür ist abgelaufen" in page
    assert db.session.scalars(select(Enrolment)).all() == []


def test_employee_cannot_cancel_for_others_or_see_hr_pages(client, login, make, staff_user, hr, db):
    course_session = make.course_session()
    from app.courses.services import enrolment

    other = enrolment.enrol(
        db.session, employee=make.employee(), course_session=course_session, actor=hr
    )
    db.session.commit()
    login("erika@stadt.example")
    path = f"/courses/sessions/{course_session.id}"
    token = csrf_token(client, path)
    assert (
        client.post(
            f"/courses/enrolments/{other.id}/cancel", data={"csrf_token": token}
        ).status_code
        == 403
    )
    for hr_page in (f"{path}/book", f"{path}/attendance", f"{path}/edit", "/courses/course/new"):
        assert client.get(hr_page).status_code == 403, hr_page
    assert "Teilnehmende" not in client.get(path).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enrolment, other.id).status == "booked"


def test_hr_creates_course_and_session_with_clear_errors(client, login, hr, db):
    login("hr@stadt.example")
    form = {
        "csrf_token": csrf_token(client, "/courses/course/new"),
        "code": "DIV-FK",
        "title": "Diversity Management für Führungskräfte",
        "format": "in_person",
        "language": "de",
        "duration_minutes": "240",
        "default_capacity": "0",
    }
    refused = client.post("/courses/course/new", data=form)
    assert refused.status_code == 200
    assert "Bitte korrigieren Sie" in refused.get_data(as_text=True)
    form["default_capacity"] = "14"
    created = client.post("/courses/course/new", data=form)
    assert created.status_code == 302
    course = db.session.scalar(select(Course))
    assert course.validity_months is None

    new_session = f"/courses/course/{course.id}/sessions/new"
    start = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT09:00")
    bad = {
        "csrf_token": csrf_token(client, new_session),
        "starts_at": start,
        "ends_at": start.replace("T09:00", "T08:00"),
        "capacity": "14",
        "enrolment_deadline": start.replace("T09:00", "T10:00"),
    }
    page = client.post(new_session, data=bad).get_data(as_text=True)
    assert "Das Ende muss nach dem Beginn liegen." in page
    assert "Die Frist darf nicht nach dem Beginn liegen." in page
    assert db.session.scalars(select(CourseSession)).all() == []
    good = {**bad, "ends_at": start.replace("T09:00", "T12:30"), "enrolment_deadline": ""}
    assert client.post(new_session, data=good).status_code == 302
    created_session = db.session.scalar(select(CourseSession))
    assert created_session.starts_at.astimezone(created_session.starts_at.tzinfo).minute == 0
    from app.core.types import BERLIN

    assert created_session.starts_at.astimezone(BERLIN).strftime("%H:%M") == "09:00"


def test_hr_books_a_department_and_marks_attendance(client, login, make, hr, db):
    kita = make.department("KITA", name="Kita Buchenbusch")
    course = make.course(validity_months=36)
    trained = make.employee(kita, last_name="Schon-Geschult")
    db.session.add(
        Completion(employee=trained, course=course, completed_on=utcnow().date(), valid_until=None)
    )
    db.session.commit()
    untrained = [make.employee(kita, last_name=f"Neu{n}") for n in range(3)]
    course_session = make.course_session(course, capacity=2, starts_in=timedelta(hours=2))
    login("hr@stadt.example")
    book = f"/courses/sessions/{course_session.id}/book"
    page = client.get(book, query_string={"department": "KITA", "untrained_only": "y"}).get_data(
        as_text=True
    )
    assert "Neu0" in page and "Schon-Geschult" not in page
    ids = re.findall(r'name="employee_id" value="(\d+)"', page)
    assert sorted(map(int, ids)) == sorted(e.id for e in untrained)
    response = client.post(book, data={"csrf_token": csrf_token(client, book), "employee_id": ids})
    assert response.status_code == 302
    db.session.expire_all()
    statuses = sorted(e.status for e in db.session.scalars(select(Enrolment)))
    assert statuses == ["booked", "booked", "waitlisted"]

    attendance = f"/courses/sessions/{course_session.id}/attendance"
    with time_machine.travel(course_session.ends_at + timedelta(minutes=5)):
        page = client.get(attendance).get_data(as_text=True)
        booked = db.session.scalars(select(Enrolment).where(Enrolment.status == "booked")).all()
        data = {"csrf_token": csrf_token(client, attendance)}
        data[f"outcome-{booked[0].id}"] = "attended"
        data[f"outcome-{booked[1].id}"] = "no_show"
        assert client.post(attendance, data=data).status_code == 302
    db.session.expire_all()
    holders = {c.employee_id for c in db.session.scalars(select(Completion))}
    assert holders == {trained.id, booked[0].employee_id}


def test_past_session_offers_no_enrolment(client, login, make, staff_user):
    course_session = make.course_session(starts_in=timedelta(days=-3))
    login("erika@stadt.example")
    page = client.get(f"/courses/sessions/{course_session.id}").get_data(as_text=True)
    assert "hat bereits begonnen oder ist vorbei" in page
    assert "/enrol" not in page


def test_free_seats_and_a_full_date_read_the_same_wherever_dates_are_offered(
    client, login, make, staff_user, hr, db
):
    from app.requirements.models import AudienceKind, AudienceRule, Requirement

    course = make.course(title="Erste Hilfe")
    rule = Requirement(name="Erste Hilfe", first_due_date=utcnow().date(), courses=[course])
    rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(rule)
    db.session.commit()
    roomy = make.course_session(course, capacity=3, starts_in=timedelta(days=10))
    full = make.course_session(course, capacity=1, starts_in=timedelta(days=20))
    from app.courses.services import enrolment

    enrolment.enrol(db.session, employee=make.employee(), course_session=full, actor=hr)
    db.session.commit()
    login("erika@stadt.example")
    badge = '<span class="status status--full">ausgebucht – Warteliste</span>'
    pages = {
        path: client.get(path).get_data(as_text=True)
        for path in ("/courses/", f"/courses/course/{course.id}", "/requirements/mine", "/")
    }
    # The start page offers only the soonest date (the roomy one); the others, all of them.
    offering_both = ("/courses/", f"/courses/course/{course.id}", "/requirements/mine")
    assert [path for path in offering_both if pages[path].count(badge) != 1] == []
    assert badge not in pages["/"] and "/requirements/mine#requirement-" in pages["/"]
    assert f"<td>3 von {roomy.capacity}</td>" in pages["/courses/"]
    for path in (f"/courses/course/{course.id}", "/requirements/mine", "/"):
        assert "3 Plätze frei" in pages[path]


def test_the_catalogue_pages_through_its_dates_keeping_the_filters(
    app, client, login, make, staff_user
):
    german = make.course("DE-1", language="de")
    english = make.course("EN-1", language="en")
    dates = [make.course_session(german, starts_in=timedelta(days=10 + n)) for n in range(7)]
    make.course_session(english, starts_in=timedelta(days=9))
    login(staff_user.email)
    app.config["CATALOGUE_DATES_PER_PAGE"] = 3
    try:
        first = client.get("/courses/?language=de").get_data(as_text=True)
        third = client.get("/courses/?language=de&page=3").get_data(as_text=True)
        beyond = client.get("/courses/?language=de&page=4")
        zero = client.get("/courses/?page=0")
    finally:
        app.config["CATALOGUE_DATES_PER_PAGE"] = 25

    def shown(page: str) -> list[int]:
        return [d.id for d in dates if f'/courses/sessions/{d.id}"' in page]

    assert shown(first) == [d.id for d in dates[:3]]
    assert shown(third) == [dates[6].id]
    assert 'href="/courses/?page=2&amp;language=de"' in first  # the filter is kept
    assert "page=4" not in third  # the last page offers no next one
    assert beyond.status_code == 404 and zero.status_code == 404

"""Heads book the staff of their own departments (building yard, kitchens: no PC, no e-mail)
with the same seat, waiting-list and double-click rules as everyone; outside their subtree: 403."""

from __future__ import annotations

from sqlalchemy import select

from app.core.roles import Role
from app.courses.models import CourseSession, Enrolment, EnrolmentEvent
from app.courses.services import enrolment as service
from app.courses.services.errors import NotAllowed
from tests.conftest import csrf_token
from tests.courses.concurrent import post_at_once, tabs_of
from tests.courses.invariants import enrolment_problems


def _setup(make):
    yard = make.department("BH", name="Betriebshof")
    sweepers = make.department("BH-S", name="Straßenreinigung", parent=yard)
    other = make.department("KITA", name="Kita Sonnenblume")
    head = make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(yard,))
    return head, yard, sweepers, other


def _page(client, login, course_session) -> str:
    login("leitung@stadt.example")
    return f"/courses/sessions/{course_session.id}"


def test_head_books_and_cancels_own_staff_and_history_records_the_head(client, login, make, db):
    head, _yard, sweepers, _other = _setup(make)
    person = make.employee(sweepers, first_name="Jürgen", last_name="Özdemir", email=None)
    course_session = make.course_session(capacity=3)
    page = _page(client, login, course_session)
    assert "Meine Beschäftigten buchen" in client.get(page).get_data(as_text=True)

    book = f"/courses/sessions/{course_session.id}/book"
    response = client.post(
        f"{book}-one",
        data={
            "one-personnel_number": person.personnel_number,
            "one-csrf_token": csrf_token(client, book),
        },
    )
    assert response.status_code == 302
    shown = client.get(page).get_data(as_text=True)
    assert "Özdemir, Jürgen" in shown and "gebucht" in shown

    booked = db.session.scalar(select(Enrolment).where(Enrolment.employee_id == person.id))
    assert booked.status == "booked"
    response = client.post(
        f"/courses/enrolments/{booked.id}/cancel", data={"csrf_token": csrf_token(client, page)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Enrolment, booked.id).status == "cancelled"
    assert db.session.get(CourseSession, course_session.id).seats_taken == 0
    events = db.session.scalars(
        select(EnrolmentEvent)
        .where(EnrolmentEvent.enrolment_id == booked.id)
        .order_by(EnrolmentEvent.id)
    ).all()
    assert [(e.action, e.actor_user_id) for e in events] == [
        ("booked", head.id),
        ("cancelled", head.id),
    ]


def test_head_books_a_department_of_the_subtree_from_the_list(client, login, make, db):
    _head, yard, sweepers, _other = _setup(make)
    people = [make.employee(sweepers, last_name=f"Kovačević{n}") for n in range(3)]
    course_session = make.course_session(capacity=2)
    _page(client, login, course_session)
    book = f"/courses/sessions/{course_session.id}/book"
    listed = client.get(f"{book}?department=BH").get_data(as_text=True)
    assert all(p.last_name in listed for p in people)

    response = client.post(
        book,
        data={"csrf_token": csrf_token(client, book), "employee_id": [str(p.id) for p in people]},
    )
    assert response.status_code == 302
    statuses = sorted(db.session.scalars(select(Enrolment.status)).all())
    assert statuses == ["booked", "booked", "waitlisted"]  # capacity 2: the third one waits
    assert enrolment_problems(db.session) == []


def test_head_gets_403_for_people_outside_the_subtree(client, login, make, db):
    head, _yard, _sweepers, other = _setup(make)
    outsider = make.employee(other)
    hr = make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    course_session = make.course_session(capacity=3)
    theirs = service.enrol(db.session, employee=outsider, course_session=course_session, actor=hr)
    db.session.commit()
    page = _page(client, login, course_session)
    book = f"/courses/sessions/{course_session.id}/book"
    token = csrf_token(client, book)

    assert outsider.last_name not in client.get(page).get_data(as_text=True)
    assert client.get(f"{book}?department=KITA").status_code == 403
    one = client.post(
        f"{book}-one",
        data={"one-personnel_number": outsider.personnel_number, "one-csrf_token": token},
    )
    many = client.post(book, data={"csrf_token": token, "employee_id": [str(outsider.id)]})
    cancel = client.post(f"/courses/enrolments/{theirs.id}/cancel", data={"csrf_token": token})
    assert [one.status_code, many.status_code, cancel.status_code] == [403, 403, 403]
    db.session.expire_all()
    assert db.session.get(Enrolment, theirs.id).status == "booked"
    assert db.session.scalar(select(Enrolment).where(Enrolment.id != theirs.id)) is None

    try:
        service.enrol(db.session, employee=outsider, course_session=course_session, actor=head)
    except NotAllowed:
        db.session.rollback()
    else:
        raise AssertionError("a head booked someone outside their subtree")


def test_an_employee_cannot_book_colleagues(client, login, make, staff_user, db):
    colleague = make.employee(staff_user.employee.department)
    course_session = make.course_session()
    login("erika@stadt.example")
    book = f"/courses/sessions/{course_session.id}/book"
    assert client.get(book).status_code == 403
    token = csrf_token(client, f"/courses/sessions/{course_session.id}")
    response = client.post(
        f"{book}-one",
        data={"one-personnel_number": colleague.personnel_number, "one-csrf_token": token},
    )
    assert response.status_code == 403
    assert db.session.scalar(select(Enrolment)) is None


def test_head_cannot_override_deadlines(make, db):
    from datetime import timedelta

    from app.core.types import utcnow
    from app.courses.services.errors import DeadlinePassed

    head, _yard, sweepers, _other = _setup(make)
    person = make.employee(sweepers)
    course_session = make.course_session(enrolment_deadline=utcnow() - timedelta(days=1))
    try:
        service.enrol(
            db.session,
            employee=person,
            course_session=course_session,
            actor=head,
            override_deadline=True,
        )
    except DeadlinePassed:
        db.session.rollback()
    else:
        raise AssertionError("a head overrode the enrolment deadline")


def test_a_heads_double_click_books_the_person_once(app, client, login, make, db):
    _head, _yard, sweepers, _other = _setup(make)
    person = make.employee(sweepers)
    course_session = make.course_session(capacity=5)
    _page(client, login, course_session)
    book = f"/courses/sessions/{course_session.id}/book"
    token = csrf_token(client, book)

    responses = post_at_once(
        app,
        tabs_of(client, app, 10),
        f"{book}-one",
        {"one-personnel_number": person.personnel_number, "one-csrf_token": token},
    )

    assert [r.status_code for r in responses] == [302] * 10
    db.session.expire_all()
    assert db.session.get(CourseSession, course_session.id).seats_taken == 1
    assert db.session.scalars(select(Enrolment.status)).all() == ["booked"]
    assert db.session.scalars(select(EnrolmentEvent.action)).all() == ["booked"]
    assert enrolment_problems(db.session) == []


def test_head_books_a_person_due_from_the_coverage_list(client, login, make, db):
    from datetime import date

    from app.requirements.models import AudienceKind, AudienceRule, Requirement

    _head, yard, sweepers, other = _setup(make)
    person = make.employee(sweepers, first_name="Jürgen", last_name="Özdemir", email=None)
    outsider = make.employee(other, entry_date=date(2015, 1, 1))
    person.entry_date = date(2015, 1, 1)
    course = make.course("IKK", title="Interkulturelle Kompetenz")
    rule = Requirement(name="Basisschulung", first_due_date=date(2025, 5, 1), courses=[course])
    rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(rule)
    db.session.commit()
    right = make.course_session(course, capacity=4)
    unrelated = make.course_session(make.course(title="Sport im Verein"))
    login("leitung@stadt.example")

    listed = client.get("/reports/people").get_data(as_text=True)
    assert "Özdemir, Jürgen" in listed and "Zu einem Termin anmelden" in listed
    offered = client.get(f"/courses/book-for/{person.personnel_number}?course={course.id}")
    assert offered.status_code == 200
    page = offered.get_data(as_text=True)
    assert f"/courses/sessions/{right.id}/book-one" in page
    assert f"/courses/sessions/{unrelated.id}/book-one" not in page

    token = csrf_token(client, f"/courses/book-for/{person.personnel_number}")
    response = client.post(
        f"/courses/sessions/{right.id}/book-one",
        data={"one-csrf_token": token, "one-personnel_number": person.personnel_number},
    )
    assert response.status_code == 302
    assert (
        db.session.scalar(select(Enrolment.status).where(Enrolment.employee_id == person.id))
        == "booked"
    )
    assert client.get(f"/courses/book-for/{outsider.personnel_number}").status_code == 403


def test_a_head_is_offered_no_date_whose_booking_deadline_has_passed(client, login, make, db):
    """A head cannot override deadlines, so the dates for a person list only those still open
    (found in the demo: "Anmelden" on a date four days ahead ended in "Die Frist ist
    abgelaufen"); HR, who may override, sees them all."""
    from datetime import timedelta

    from app.core.types import utcnow

    _head, _yard, sweepers, _other = _setup(make)
    person = make.employee(sweepers, email=None)
    course = make.course("IKK")
    closed = make.course_session(
        course, starts_in=timedelta(days=4), enrolment_deadline=utcnow() - timedelta(days=1)
    )
    open_ = make.course_session(course, starts_in=timedelta(days=20))
    login("leitung@stadt.example")
    page = client.get(f"/courses/book-for/{person.personnel_number}").get_data(as_text=True)
    assert f"/courses/sessions/{open_.id}/book-one" in page
    assert f"/courses/sessions/{closed.id}/book-one" not in page
    make.user("hr@stadt.example", roles=(Role.HR,))
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login("hr@stadt.example")
    page = client.get(f"/courses/book-for/{person.personnel_number}").get_data(as_text=True)
    assert f"/courses/sessions/{closed.id}/book-one" in page

"""The same person clicking twice (or twenty times) at the same moment: a double click in a rush,
a browser retry, two tabs, HR booking the person at the same second. Every answer is the page
the first click gave, the seat counter stays true, and each step happens (and is mailed) once."""

from __future__ import annotations

import random
import re

from sqlalchemy import select

from app.auth.models import User
from app.courses.models import CourseSession, Enrolment, EnrolmentEvent
from app.courses.services import enrolment as service
from app.courses.services.errors import CourseError
from app.staff.models import Employee
from tests.conftest import csrf_token
from tests.courses.concurrent import (
    call_off_job,
    cancel_job,
    capacity_job,
    enrol_job,
    leave_job,
    move_job,
    post_at_once,
    run_at_once,
    tabs_of,
)
from tests.courses.invariants import enrolment_problems

CLICKS = 20
FLASH = re.compile(r'class="flash flash--[^"]*"[^>]*>\s*([^<]+)<')


def test_twenty_clicks_on_enrol_book_one_seat_and_answer_alike(
    app, client, login, make, staff_user, db
):
    course_session = make.course_session(capacity=5)
    page = _open(client, login, course_session)

    responses = _click_at_once(app, client, page, f"{page}/enrol")

    assert [r.status_code for r in responses] == [302] * CLICKS
    assert _flashes(app, responses) == {"Sie sind angemeldet. Die Kalenderdatei finden Sie unten."}
    assert _seats(db, course_session) == 1
    assert _actions(db, staff_user) == ["booked"]
    assert enrolment_problems(db.session) == []


def test_twenty_clicks_on_enrol_after_cancelling_book_once(
    app, client, login, make, staff_user, db
):
    course_session = make.course_session(capacity=5)
    own = service.enrol(
        db.session, employee=staff_user.employee, course_session=course_session, actor=staff_user
    )
    service.cancel_enrolment(db.session, enrolment=own, actor=staff_user)
    db.session.commit()
    page = _open(client, login, course_session)

    responses = _click_at_once(app, client, page, f"{page}/enrol")

    assert [r.status_code for r in responses] == [302] * CLICKS
    assert _flashes(app, responses) == {"Sie sind angemeldet. Die Kalenderdatei finden Sie unten."}
    assert _seats(db, course_session) == 1
    assert _actions(db, staff_user) == ["booked", "cancelled", "booked"]
    assert enrolment_problems(db.session) == []


def test_twenty_clicks_on_cancel_free_the_seat_once(app, client, login, make, staff_user, db):
    course_session = make.course_session(capacity=5)
    own = service.enrol(
        db.session, employee=staff_user.employee, course_session=course_session, actor=staff_user
    )
    db.session.commit()
    page = _open(client, login, course_session)

    responses = _click_at_once(app, client, page, f"/courses/enrolments/{own.id}/cancel")

    assert [r.status_code for r in responses] == [302] * CLICKS
    assert _flashes(app, responses) == {"Die Anmeldung wurde storniert."}
    assert _seats(db, course_session) == 0
    assert _actions(db, staff_user) == ["booked", "cancelled"]
    assert enrolment_problems(db.session) == []


def test_twenty_clicks_for_the_last_seat_leave_no_seat_free_while_someone_waits(
    app, client, login, make, staff_user, hr, db
):
    course_session = make.course_session(capacity=3)
    for _ in range(2):
        service.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    own = service.enrol(
        db.session, employee=staff_user.employee, course_session=course_session, actor=staff_user
    )
    service.cancel_enrolment(db.session, enrolment=own, actor=staff_user)
    db.session.commit()
    page = _open(client, login, course_session)

    responses = _click_at_once(app, client, page, f"{page}/enrol")
    late = service.enrol(
        db.session, employee=make.employee(), course_session=course_session, actor=hr
    )
    db.session.commit()

    assert [r.status_code for r in responses] == [302] * CLICKS
    assert _seats(db, course_session) == 3
    assert _actions(db, staff_user) == ["booked", "cancelled", "booked"]
    assert late.status == "waitlisted"
    assert enrolment_problems(db.session) == []

    service.cancel_enrolment(db.session, enrolment=own, actor=staff_user)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Enrolment, late.id).status == "booked"
    assert enrolment_problems(db.session) == []


def test_hr_and_the_person_book_at_the_same_moment(app, make, staff_user, hr, db):
    course_session = make.course_session(capacity=5)
    session_id, employee_id = course_session.id, staff_user.employee.id
    by_person = enrol_job(employee_id, session_id, staff_user.id)
    by_hr = enrol_job(employee_id, session_id, hr.id)

    errors = run_at_once(app, [by_person, by_hr] * 5)

    assert all(type(e).__name__ == "AlreadyEnrolled" for e in errors) and len(errors) == 9
    assert _seats(db, course_session) == 1
    assert enrolment_problems(db.session) == []


def test_people_joining_a_full_date_at_once_see_their_real_distinct_places(app, make, hr, db):
    course_session = make.course_session(capacity=1)
    service.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    waiting = [make.employee() for _ in range(15)]
    session_id, hr_id = course_session.id, hr.id  # read here: the threads have their own sessions
    shown: dict[int, int] = {}

    def join(employee_id):
        def job(db_session):
            joined = service.enrol(
                db_session,
                employee=db_session.get(Employee, employee_id),
                course_session=db_session.get(CourseSession, session_id),
                actor=db_session.get(User, hr_id),
            )
            db_session.commit()  # as the page does: the place is read after the commit
            shown[employee_id] = service.waitlist_position(db_session, joined)

        return job

    assert run_at_once(app, [join(e.id) for e in waiting]) == []

    assert sorted(shown.values()) == list(range(1, 16))
    db.session.expire_all()
    line = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.status == "waitlisted")
        .order_by(Enrolment.waitlist_number)
    ).all()
    assert [shown[e.employee_id] for e in line] == list(range(1, 16))
    assert enrolment_problems(db.session) == []


def test_a_concurrent_mix_keeps_every_promise(app, make, hr, db):
    """Enrol (some twice at once), cancel (some twice), HR moves people, a leaver is
    withdrawn, capacities change and a date is called off, all at the same moment."""
    rng = random.Random(12)
    sessions = [make.course_session(capacity=rng.randint(2, 4)) for _ in range(3)]
    people = [make.employee() for _ in range(16)]
    for person in people[:10]:
        service.enrol(db.session, employee=person, course_session=rng.choice(sessions), actor=hr)
    db.session.commit()
    session_ids = [s.id for s in sessions]
    active = db.session.scalars(select(Enrolment)).all()
    jobs = []
    for person in people:
        target = rng.choice(session_ids)
        jobs += [enrol_job(person.id, target, hr.id)] * rng.choice((1, 2))
    for enrolment in active[:4]:
        jobs += [cancel_job(enrolment.id, hr.id)] * 2
    for enrolment in active[4:6]:
        jobs.append(move_job(enrolment.id, rng.choice(session_ids), hr.id))
    jobs.append(leave_job(active[6].id))
    jobs += [capacity_job(session_ids[0], 6, hr.id), capacity_job(session_ids[1], 5, hr.id)]
    jobs.append(call_off_job(session_ids[2], hr.id))
    rng.shuffle(jobs)

    errors = run_at_once(app, jobs)

    assert [e for e in errors if not isinstance(e, CourseError)] == []
    db.session.expire_all()
    assert enrolment_problems(db.session) == []


# --- helpers ---------------------------------------------------------------------------------


def _open(client, login, course_session) -> str:
    login("erika@stadt.example")
    return f"/courses/sessions/{course_session.id}"


def _click_at_once(app, client, page: str, path: str) -> list:
    """The logged-in person's form on ``page`` sent to ``path`` by CLICKS tabs at once."""
    token = csrf_token(client, page)
    return post_at_once(app, tabs_of(client, app, CLICKS), path, {"csrf_token": token})


def _flashes(app, responses) -> set[str]:
    """The message each click's answer shows (read from its own cookie, as its tab would)."""
    shown = set()
    for response in responses:
        tab = app.test_client()
        cookie = next(
            (
                v.split(";")[0].split("=", 1)[1]
                for v in response.headers.getlist("Set-Cookie")
                if v.startswith("session=")
            ),
            None,
        )
        assert cookie, "the answer set no message"
        tab.set_cookie("session", cookie)
        page = tab.get(response.headers["Location"]).get_data(as_text=True)
        shown.update(
            m.strip() for m in re.findall(r'class="flash flash--[^"]*"[^>]*>\s*([^<]+)<', page)
        )
    return shown


def _seats(db, course_session) -> int:
    db.session.expire_all()
    return db.session.get(CourseSession, course_session.id).seats_taken


def _actions(db, user) -> list[str]:
    return list(
        db.session.scalars(
            select(EnrolmentEvent.action)
            .join(Enrolment)
            .where(Enrolment.employee_id == user.employee_id)
            .order_by(EnrolmentEvent.id)
        )
    )

"""The nightly check finds a seat counter that disagrees with the bookings and puts it right."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.core.types import utcnow
from app.courses.models import CourseSession, Enrolment, SeatCountRepair
from app.courses.services import enrolment as service
from app.courses.services import seats
from app.courses.tasks import check_seat_counts
from tests.courses.concurrent import run_at_once
from tests.courses.invariants import enrolment_problems


def test_a_drifted_counter_is_repaired_once_and_the_first_waiting_moves_up(make, hr, db):
    course_session = make.course_session(capacity=2)
    service.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    # A phantom seat (the kind double clicks used to leave): the counter says 2 of 2 with one
    # booking, so the next people land on the waiting list while a seat is empty.
    db.session.execute(
        update(CourseSession).where(CourseSession.id == course_session.id).values(seats_taken=2)
    )
    first_waiting = service.enrol(
        db.session, employee=make.employee(), course_session=course_session, actor=hr
    )
    second_waiting = service.enrol(
        db.session, employee=make.employee(), course_session=course_session, actor=hr
    )
    db.session.commit()
    assert first_waiting.status == "waitlisted"
    assert enrolment_problems(db.session) != []

    assert _check() == 1

    db.session.expire_all()
    assert db.session.get(CourseSession, course_session.id).seats_taken == 2
    assert db.session.get(Enrolment, first_waiting.id).status == "booked"
    assert db.session.get(Enrolment, second_waiting.id).status == "waitlisted"
    repair = db.session.scalars(select(SeatCountRepair)).one()
    found = (repair.seats_taken_found, repair.booked, repair.repaired, repair.promoted)
    assert found == (2, 1, True, 1)
    assert enrolment_problems(db.session) == []
    assert _check() == 0  # safe to run twice


def test_past_and_cancelled_dates_are_left_alone(make, hr, db):
    past = make.course_session(starts_in=timedelta(days=-3))
    db.session.execute(
        update(CourseSession).where(CourseSession.id == past.id).values(seats_taken=1)
    )
    db.session.commit()

    assert _check() == 0


def test_more_booked_than_seats_is_reported_not_hidden(make, hr, db):
    course_session = make.course_session(capacity=2)
    for _ in range(2):
        service.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    db.session.execute(
        update(CourseSession).where(CourseSession.id == course_session.id).values(seats_taken=1)
    )
    extra = make.employee()
    db.session.add(Enrolment(session_id=course_session.id, employee_id=extra.id, status="booked"))
    db.session.commit()

    assert _check() == 1

    repair = db.session.scalars(select(SeatCountRepair)).one()
    assert (repair.booked, repair.repaired) == (3, False)
    db.session.expire_all()
    assert db.session.get(CourseSession, course_session.id).seats_taken == 1


def test_hr_sees_the_repairs_on_the_status_page(client, login, make, hr, db):
    course_session = make.course_session(make.course(title="Vernetzung mit Vereinen"), capacity=3)
    service.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    db.session.execute(
        update(CourseSession).where(CourseSession.id == course_session.id).values(seats_taken=3)
    )
    db.session.commit()
    _check()

    login("hr@stadt.example")
    page = client.get("/status").get_data(as_text=True)

    main = page[page.index("<main") : page.index("</main>")]
    section = main[main.index('<h2 id="seat-counts">Platzzähler</h2>') :]
    assert "Vernetzung mit Vereinen" in section
    assert "Korrigiert" in section
    assert "<title>Systemstatus · " in page


def _check() -> int:
    """Run the nightly task as the worker does: in its own app context, after our commit."""
    from app.extensions import db

    db.session.commit()
    return check_seat_counts()


def test_two_checks_at_the_same_moment_repair_once(app, make, hr, db):
    course_session = make.course_session(capacity=3)
    service.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    db.session.execute(
        update(CourseSession).where(CourseSession.id == course_session.id).values(seats_taken=3)
    )
    db.session.commit()

    def check(db_session):
        seats.repair_seat_counts(db_session, now=utcnow())

    assert run_at_once(app, [check, check]) == []

    assert len(db.session.scalars(select(SeatCountRepair)).all()) == 1
    db.session.expire_all()
    assert db.session.get(CourseSession, course_session.id).seats_taken == 1

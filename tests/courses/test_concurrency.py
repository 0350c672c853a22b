"""Many people at the same second: capacity holds over real, separate database connections."""

from sqlalchemy import select

from app.courses.models import CourseSession, Enrolment
from app.courses.services import enrolment as service
from tests.courses.concurrent import cancel_job, enrol_job, run_at_once


def test_fifty_enrol_into_ten_seats_then_five_cancel(app, db, make, hr):
    course_session = make.course_session(capacity=10)
    people = [make.employee() for _ in range(50)]
    session_id, hr_id = course_session.id, hr.id

    errors = run_at_once(app, [enrol_job(p.id, session_id, hr_id) for p in people])
    assert errors == []

    db.session.expire_all()
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.session_id == session_id)
    ).all()
    booked = [e for e in enrolments if e.status == "booked"]
    waiting = [e for e in enrolments if e.status == "waitlisted"]
    assert len(booked) == 10 and len(waiting) == 40
    assert db.session.get(CourseSession, session_id).seats_taken == 10
    in_line = sorted(waiting, key=lambda e: service.waitlist_position(db.session, e))
    assert [service.waitlist_position(db.session, e) for e in in_line] == list(range(1, 41))
    assert in_line == sorted(waiting, key=lambda e: e.waitlist_number)  # the order they joined

    errors = run_at_once(app, [cancel_job(e.id, hr_id) for e in booked[:5]])
    assert errors == []
    db.session.expire_all()
    statuses = {e.id: e.status for e in db.session.scalars(select(Enrolment))}
    assert [statuses[e.id] for e in in_line[:5]] == ["booked"] * 5
    assert [statuses[e.id] for e in in_line[5:]] == ["waitlisted"] * 35
    assert sum(1 for s in statuses.values() if s == "booked") == 10
    assert db.session.get(CourseSession, session_id).seats_taken == 10

"""HR keeps the catalogue and the sessions; bad input is refused and changes nothing."""

from datetime import date, timedelta

import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import select

from app.core.models import OutboxMessage
from app.core.types import BERLIN, utcnow
from app.courses.models import Completion, CourseSession, Enrolment
from app.courses.services import attendance, calendar, catalogue
from app.courses.services import enrolment as enrolment_service
from app.courses.services.errors import AttendanceTooEarly, InvalidInput, NotAllowed


def session_data(**overrides):
    start = (utcnow() + timedelta(days=20)).replace(microsecond=0)
    values = {"starts_at": start, "ends_at": start + timedelta(hours=3), "capacity": 12}
    values.update(overrides)
    return catalogue.SessionData(**values)


def test_create_course_and_refuse_a_duplicate_code(db, hr, staff_user):
    data = catalogue.CourseData(
        code="IKK-BS", title="Interkulturelle Kompetenz", validity_months=36
    )
    catalogue.save_course(db.session, data=data, actor=hr)
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        catalogue.save_course(db.session, data=data, actor=hr)
    assert "code" in refused.value.errors
    with pytest.raises(NotAllowed):
        catalogue.save_course(db.session, data=data, actor=staff_user)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at_hours": -1}, "ends_at"),
        ({"capacity": 0}, "capacity"),
        ({"enrolment_deadline_days": 1}, "enrolment_deadline"),
        ({"cancellation_deadline_days": 2}, "cancellation_deadline"),
    ],
)
def test_impossible_sessions_are_refused(db, make, hr, change, field):
    data = session_data()
    if "ends_at_hours" in change:
        data = session_data(ends_at=data.starts_at + timedelta(hours=change["ends_at_hours"]))
    if "capacity" in change:
        data = session_data(capacity=0)
    if "enrolment_deadline_days" in change:
        data = session_data(enrolment_deadline=data.starts_at + timedelta(days=1))
    if "cancellation_deadline_days" in change:
        data = session_data(cancellation_deadline=data.starts_at + timedelta(days=2))
    with pytest.raises(InvalidInput) as refused:
        catalogue.schedule_session(db.session, course=make.course(), data=data, actor=hr)
    assert field in refused.value.errors
    db.session.rollback()
    assert db.session.scalars(select(CourseSession)).all() == []


def test_capacity_cannot_drop_below_seats_taken_but_more_seats_promote(db, make, hr):
    course_session = make.course_session(capacity=2)
    people = [make.employee() for _ in range(4)]
    for person in people:
        enrolment_service.enrol(
            db.session, employee=person, course_session=course_session, actor=hr
        )
    db.session.commit()
    base = {
        name: getattr(course_session, name) for name in catalogue.SessionData.__dataclass_fields__
    }
    with pytest.raises(InvalidInput) as refused:
        catalogue.update_session(
            db.session,
            course_session,
            data=catalogue.SessionData(**{**base, "capacity": 1}),
            actor=hr,
        )
    assert "capacity" in refused.value.errors
    db.session.rollback()
    catalogue.update_session(
        db.session, course_session, data=catalogue.SessionData(**{**base, "capacity": 3}), actor=hr
    )
    db.session.commit()
    statuses = [e.status for e in db.session.scalars(select(Enrolment).order_by(Enrolment.id))]
    assert statuses == ["booked", "booked", "booked", "waitlisted"]
    assert course_session.sequence == 0  # no calendar change, no new sequence


def test_moving_a_session_raises_sequence_and_tells_participants(db, make, hr):
    course_session = make.course_session(capacity=5)
    enrolment_service.enrol(
        db.session, employee=make.employee(), course_session=course_session, actor=hr
    )
    db.session.commit()
    base = {
        name: getattr(course_session, name) for name in catalogue.SessionData.__dataclass_fields__
    }
    later = base["starts_at"] + timedelta(days=1)
    data = catalogue.SessionData(
        **{**base, "starts_at": later, "ends_at": later + timedelta(hours=2)}
    )
    catalogue.update_session(db.session, course_session, data=data, actor=hr)
    db.session.commit()
    assert course_session.sequence == 1
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["booked", "session_changed"]


def test_cancelling_a_session_releases_everyone(db, make, hr):
    course_session = make.course_session(capacity=1)
    for _ in range(3):
        enrolment_service.enrol(
            db.session, employee=make.employee(), course_session=course_session, actor=hr
        )
    db.session.commit()
    released = catalogue.cancel_session(
        db.session, course_session, actor=hr, reason="Trainerin krank"
    )
    db.session.commit()
    assert len(released) == 3
    assert {e.status for e in db.session.scalars(select(Enrolment))} == {"cancelled"}
    assert course_session.seats_taken == 0 and course_session.cancelled_at is not None
    kinds = db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.kind == "session_cancelled")
    ).all()
    assert len(kinds) == 3


def test_attendance_creates_completions_with_validity(db, make, hr):
    course = make.course(validity_months=36)
    course_session = make.course_session(course, starts_in=timedelta(days=2), capacity=3)
    present, absent, excused = (make.employee() for _ in range(3))
    rows = [
        enrolment_service.enrol(db.session, employee=p, course_session=course_session, actor=hr)
        for p in (present, absent, excused)
    ]
    db.session.commit()
    with pytest.raises(AttendanceTooEarly):
        attendance.record_attendance(
            db.session, course_session=course_session, outcomes={}, actor=hr
        )
    with time_machine.travel(course_session.ends_at + timedelta(hours=1)):
        changed = attendance.record_attendance(
            db.session,
            course_session=course_session,
            outcomes={
                rows[0].id: attendance.EnrolmentStatus.ATTENDED,
                rows[1].id: attendance.EnrolmentStatus.NO_SHOW,
                rows[2].id: attendance.EnrolmentStatus.EXCUSED,
            },
            actor=hr,
        )
        db.session.commit()
    assert changed == 3
    completions = db.session.scalars(select(Completion)).all()
    assert [c.employee_id for c in completions] == [present.id]
    day = course_session.starts_at.astimezone(BERLIN).date()
    assert completions[0].completed_on == day
    assert completions[0].valid_until == date(day.year + 3, day.month, day.day) - timedelta(days=1)

    with time_machine.travel(course_session.ends_at + timedelta(days=1)):
        attendance.record_attendance(
            db.session,
            course_session=course_session,
            outcomes={rows[0].id: attendance.EnrolmentStatus.NO_SHOW},
            actor=hr,
        )
        db.session.commit()
    assert db.session.scalars(select(Completion)).all() == []


def test_validity_of_completions():
    class Course:
        validity_months = 12

    assert attendance.valid_until(Course, date(2024, 2, 29)) == date(2025, 2, 27)
    assert attendance.valid_until(Course, date(2026, 1, 15)) == date(2027, 1, 14)
    Course.validity_months = 18  # months clamp to the month's end, as in the coverage rules
    assert attendance.valid_until(Course, date(2025, 8, 31)) == date(2027, 2, 27)
    Course.validity_months = None
    assert attendance.valid_until(Course, date(2026, 1, 15)) is None


def test_calendar_file_parses_back(db, make):
    course = make.course(title="Elternarbeit mit zugewanderten Familien")
    course_session = make.course_session(course, location="Rathaus, Sitzungssaal")
    ics = calendar.session_calendar(course_session, uid_domain="stadt.example")
    parsed = Calendar.from_ical(ics)
    event = next(iter(parsed.walk("VEVENT")))
    assert str(event["uid"]) == f"course-session-{course_session.id}@stadt.example"
    assert str(event["summary"]) == "Elternarbeit mit zugewanderten Familien"
    assert event.decoded("dtstart") == course_session.starts_at
    assert str(event["dtstart"].params["TZID"]) == "Europe/Berlin"
    assert int(event["sequence"]) == 0
    assert any(tz["TZID"] == "Europe/Berlin" for tz in parsed.walk("VTIMEZONE"))
    assert str(parsed["method"]) == "PUBLISH"

"""Enrolment rules: seats, waiting list, deadlines, overrides, who may act for whom."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.models import OutboxMessage
from app.core.types import utcnow
from app.courses.models import CourseSession, Enrolment, EnrolmentEvent
from app.courses.services import attendance, queries
from app.courses.services import enrolment as service
from app.courses.services.errors import (
    AlreadyEnrolled,
    AttendanceTooEarly,
    DeadlinePassed,
    EmployeeNotBookable,
    NotAllowed,
    NotCancellable,
    SessionNotBookable,
)


def enrol_people(db, hr, course_session, people):
    result = [
        service.enrol(db.session, employee=p, course_session=course_session, actor=hr)
        for p in people
    ]
    db.session.commit()
    return result


def test_seats_then_waiting_list_in_order(db, make, hr):
    session = make.course_session(capacity=2)
    people = [make.employee() for _ in range(4)]
    enrolments = enrol_people(db, hr, session, people)
    assert [e.status for e in enrolments] == ["booked", "booked", "waitlisted", "waitlisted"]
    assert [service.waitlist_position(db.session, e) for e in enrolments] == [None, None, 1, 2]
    db.session.refresh(session)
    assert session.seats_taken == 2


def test_cancelling_a_seat_promotes_the_first_in_line(db, make, hr):
    session = make.course_session(capacity=1)
    first, second, third = (make.employee() for _ in range(3))
    booked, waiting_1, waiting_2 = enrol_people(db, hr, session, [first, second, third])
    promoted = service.cancel_enrolment(db.session, enrolment=booked, actor=hr)
    db.session.commit()
    assert [e.id for e in promoted] == [waiting_1.id]
    db.session.refresh(waiting_1)
    db.session.refresh(waiting_2)
    assert waiting_1.status == "booked"
    assert service.waitlist_position(db.session, waiting_2) == 1
    assert db.session.get(CourseSession, session.id).seats_taken == 1
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["booked", "waitlisted", "waitlisted", "cancelled", "promoted"]


def test_one_waiting_list_order_for_places_the_participants_list_and_promotion(db, make, hr):
    course_session = make.course_session(capacity=1)
    seated, aaron, berta, carl = (
        make.employee(last_name=name) for name in ("Seated", "Aaron", "Berta", "Carl")
    )
    booked, *_ = enrol_people(db, hr, course_session, [seated, aaron, berta, carl])
    first_try = db.session.scalars(select(Enrolment).where(Enrolment.employee_id == aaron.id)).one()
    service.cancel_enrolment(db.session, enrolment=first_try, actor=hr)
    rejoined = service.enrol(db.session, employee=aaron, course_session=course_session, actor=hr)
    db.session.commit()
    assert rejoined.id == first_try.id  # the oldest row and the first name, yet last in line

    waiting = [
        e.employee.last_name
        for e in queries.enrolments_of(db.session, course_session)
        if e.status == "waitlisted"
    ]
    assert waiting == ["Berta", "Carl", "Aaron"]
    places = service.waitlist_positions(db.session, course_session.id)
    by_name = {db.session.get(Enrolment, i).employee.last_name: p for i, p in places.items()}
    assert by_name == {"Berta": 1, "Carl": 2, "Aaron": 3}
    assert service.waitlist_position(db.session, rejoined) == 3
    promoted = service.cancel_enrolment(db.session, enrolment=booked, actor=hr)
    assert [e.employee.last_name for e in promoted] == ["Berta"]


def test_leaving_the_waiting_list_frees_no_seat(db, make, hr):
    session = make.course_session(capacity=1)
    booked, waiting = enrol_people(db, hr, session, [make.employee(), make.employee()])
    assert service.cancel_enrolment(db.session, enrolment=waiting, actor=hr) == []
    db.session.commit()
    assert db.session.get(CourseSession, session.id).seats_taken == 1
    assert db.session.get(Enrolment, booked.id).status == "booked"


def test_second_enrolment_is_refused_and_changes_nothing(db, make, hr):
    session = make.course_session(capacity=3)
    person = make.employee()
    enrol_people(db, hr, session, [person])
    with pytest.raises(AlreadyEnrolled):
        service.enrol(db.session, employee=person, course_session=session, actor=hr)
    db.session.rollback()
    assert db.session.get(CourseSession, session.id).seats_taken == 1


def test_re_enrolling_after_cancelling_reuses_the_row(db, make, hr):
    session = make.course_session(capacity=3)
    person = make.employee()
    (first,) = enrol_people(db, hr, session, [person])
    service.cancel_enrolment(db.session, enrolment=first, actor=hr)
    db.session.commit()
    (again,) = enrol_people(db, hr, session, [person])
    assert again.id == first.id and again.status == "booked"
    actions = [e.action for e in db.session.get(Enrolment, first.id).events]
    assert actions == ["booked", "cancelled", "booked"]


def test_database_refuses_overbooking_and_duplicates(db, make):
    session = make.course_session(capacity=1)
    session.seats_taken = 2
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    person = make.employee()
    db.session.add_all(
        [Enrolment(session_id=session.id, employee_id=person.id, status="booked") for _ in range(2)]
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_employee_books_only_themself(db, make, staff_user):
    session = make.course_session()
    colleague = make.employee()
    with pytest.raises(NotAllowed):
        service.enrol(db.session, employee=colleague, course_session=session, actor=staff_user)
    own = service.enrol(
        db.session, employee=staff_user.employee, course_session=session, actor=staff_user
    )
    db.session.commit()
    assert own.status == "booked"


def test_employee_cannot_cancel_someone_else(db, make, hr, staff_user):
    session = make.course_session()
    (other,) = enrol_people(db, hr, session, [make.employee()])
    with pytest.raises(NotAllowed):
        service.cancel_enrolment(db.session, enrolment=other, actor=staff_user)


def test_inactive_employee_archived_course_past_and_cancelled_sessions(db, make, hr):
    leaver = make.employee(active=False)
    with pytest.raises(EmployeeNotBookable):
        service.enrol(db.session, employee=leaver, course_session=make.course_session(), actor=hr)
    archived = make.course_session(make.course(archived=True))
    past = make.course_session(starts_in=timedelta(hours=-2))
    called_off = make.course_session(cancelled_at=utcnow())
    for blocked in (archived, past, called_off):
        with pytest.raises(SessionNotBookable):
            service.enrol(db.session, employee=make.employee(), course_session=blocked, actor=hr)


def test_a_date_has_begun_from_its_start_time_for_every_rule(db, make, hr):
    course_session = make.course_session(starts_in=timedelta(days=3), capacity=2)
    booked = service.enrol(
        db.session, employee=make.employee(), course_session=course_session, actor=hr
    )
    db.session.commit()

    def begun_in_sql():
        return db.session.scalars(
            select(CourseSession.id).where(CourseSession.has_begun(utcnow()))
        ).all()

    with time_machine.travel(course_session.starts_at - timedelta(seconds=1), tick=False):
        assert not course_session.has_begun(utcnow())
        assert begun_in_sql() == []
        assert queries.find_sessions(db.session, queries.SessionFilter()) == [course_session]
        with pytest.raises(AttendanceTooEarly):
            attendance.record_attendance(
                db.session, course_session=course_session, outcomes={}, actor=hr
            )
    with time_machine.travel(course_session.starts_at, tick=False):
        assert course_session.has_begun(utcnow())
        assert begun_in_sql() == [course_session.id]
        assert queries.find_sessions(db.session, queries.SessionFilter()) == []
        with pytest.raises(SessionNotBookable):
            service.enrol(
                db.session, employee=make.employee(), course_session=course_session, actor=hr
            )
        db.session.rollback()
        with pytest.raises(SessionNotBookable):
            service.cancel_enrolment(db.session, enrolment=booked, actor=hr)
        db.session.rollback()
        assert (
            attendance.record_attendance(
                db.session, course_session=course_session, outcomes={}, actor=hr
            )
            == 0
        )


def test_enrolment_deadline_and_hr_override_is_recorded(db, make, hr, staff_user):
    session = make.course_session(
        starts_in=timedelta(days=10), enrolment_deadline=utcnow() + timedelta(days=3)
    )
    with time_machine.travel(utcnow() + timedelta(days=4)):
        with pytest.raises(DeadlinePassed):
            service.enrol(
                db.session, employee=staff_user.employee, course_session=session, actor=staff_user
            )
        with pytest.raises(DeadlinePassed):  # an employee cannot override
            service.enrol(
                db.session,
                employee=staff_user.employee,
                course_session=session,
                actor=staff_user,
                override_deadline=True,
            )
        with pytest.raises(DeadlinePassed):  # HR without saying so neither
            service.enrol(
                db.session, employee=staff_user.employee, course_session=session, actor=hr
            )
        booked = service.enrol(
            db.session,
            employee=staff_user.employee,
            course_session=session,
            actor=hr,
            override_deadline=True,
        )
        db.session.commit()
    event = db.session.scalars(
        select(EnrolmentEvent).where(EnrolmentEvent.enrolment_id == booked.id)
    ).one()
    assert event.deadline_overridden is True
    assert event.actor_user_id == hr.id


def test_deadline_is_inclusive_to_the_minute(db, make, hr):
    deadline = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
    session = make.course_session(starts_in=timedelta(days=5), enrolment_deadline=deadline)
    with time_machine.travel(deadline, tick=False):
        service.enrol(db.session, employee=make.employee(), course_session=session, actor=hr)
    late = make.employee()
    with (
        time_machine.travel(deadline + timedelta(seconds=1), tick=False),
        pytest.raises(DeadlinePassed),
    ):
        service.enrol(db.session, employee=late, course_session=session, actor=hr)


def test_cancellation_deadline(db, make, hr, staff_user):
    session = make.course_session(
        starts_in=timedelta(days=10), cancellation_deadline=utcnow() + timedelta(days=7)
    )
    own = service.enrol(
        db.session, employee=staff_user.employee, course_session=session, actor=staff_user
    )
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=8)):
        with pytest.raises(DeadlinePassed):
            service.cancel_enrolment(db.session, enrolment=own, actor=staff_user)
        service.cancel_enrolment(db.session, enrolment=own, actor=hr, override_deadline=True)
        db.session.commit()
    assert db.session.get(Enrolment, own.id).status == "cancelled"
    with pytest.raises(NotCancellable):
        service.cancel_enrolment(db.session, enrolment=own, actor=hr)


def test_bulk_booking_books_waitlists_and_skips(db, make, hr):
    session = make.course_session(capacity=2)
    already = make.employee()
    enrol_people(db, hr, session, [already])
    people = [make.employee(), make.employee(), already, make.employee(active=False)]
    result = service.book_many(db.session, employees=people, course_session=session, actor=hr)
    db.session.commit()
    assert len(result.booked) == 1 and len(result.waitlisted) == 1
    assert [reason for _, reason in result.skipped] == ["AlreadyEnrolled", "EmployeeNotBookable"]
    assert db.session.get(CourseSession, session.id).seats_taken == 2


def test_move_to_another_session(db, make, hr):
    course = make.course()
    full = make.course_session(course, capacity=1)
    other = make.course_session(course, capacity=5, starts_in=timedelta(days=40))
    person, waiting = make.employee(), make.employee()
    booked, queued = enrol_people(db, hr, full, [person, waiting])
    moved = service.move_enrolment(db.session, enrolment=booked, target=other, actor=hr)
    db.session.commit()
    assert moved.session_id == other.id and moved.status == "booked"
    assert db.session.get(Enrolment, queued.id).status == "booked"  # took the freed seat
    assert db.session.get(Enrolment, booked.id).status == "cancelled"


def test_outbox_key_is_unique_per_message(db, make, hr):
    session = make.course_session()
    enrol_people(db, hr, session, [make.employee()])
    keys = db.session.scalars(select(OutboxMessage.key)).all()
    assert len(keys) == len(set(keys)) == 1
    assert db.session.scalar(select(func.count(EnrolmentEvent.id))) == 1

"""The seat counter's safety net: a nightly comparison of ``seats_taken`` with the bookings.

Enrolment keeps the counter exact in the same transaction as every booking; this check makes
sure that nothing (a bug, a manual database edit, a restore) can leave it wrong unnoticed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select

from app.core.types import DbSession
from app.courses.models import CourseSession, Enrolment, EnrolmentStatus, SeatCountRepair
from app.courses.services.enrolment import lock_session, promote_waitlisted


def repair_seat_counts(db_session: DbSession, *, now: datetime) -> list[SeatCountRepair]:
    """Compare every future date's counter with its booked enrolments; put each difference
    right under the date's lock, give freed seats to the people waiting, and record it.
    Running it twice finds nothing the second time."""
    repairs = []
    for session_id in db_session.scalars(_drifted(now)).all():
        course_session = lock_session(db_session, session_id)
        booked = _booked(db_session, session_id)
        if course_session.seats_taken == booked:  # put right by a booking meanwhile
            continue
        repair = SeatCountRepair(
            session_id=session_id,
            seats_taken_found=course_session.seats_taken,
            booked=booked,
            repaired=booked <= course_session.capacity,
        )
        if repair.repaired:
            course_session.seats_taken = booked
            db_session.flush()
            repair.promoted = len(promote_waitlisted(db_session, course_session))
        db_session.add(repair)
        db_session.flush()
        repairs.append(repair)
    return repairs


def recent_repairs(db_session: DbSession, *, since: datetime) -> list[SeatCountRepair]:
    """What the check found since ``since``, newest first (for the status page)."""
    return list(
        db_session.scalars(
            select(SeatCountRepair)
            .where(SeatCountRepair.found_at >= since)
            .order_by(SeatCountRepair.found_at.desc(), SeatCountRepair.id.desc())
        )
    )


def _drifted(now: datetime) -> Select[int]:
    booked = (
        select(func.count(Enrolment.id))
        .where(
            Enrolment.session_id == CourseSession.id,
            Enrolment.status == EnrolmentStatus.BOOKED.value,
        )
        .correlate(CourseSession)
        .scalar_subquery()
    )
    return (
        select(CourseSession.id)
        .where(
            ~CourseSession.has_begun(now),
            CourseSession.cancelled_at.is_(None),
            CourseSession.seats_taken != booked,
        )
        .order_by(CourseSession.id)
    )


def _booked(db_session: DbSession, session_id: int) -> int:
    return int(
        db_session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.session_id == session_id,
                Enrolment.status == EnrolmentStatus.BOOKED.value,
            )
        )
        or 0
    )

"""Background tasks of the courses area."""

from __future__ import annotations

from celery import shared_task

from app.core.types import utcnow
from app.courses.services import seats
from app.extensions import db


@shared_task(name="courses.check_seat_counts")
def check_seat_counts() -> int:
    """Nightly: compare every future date's seat counter with its bookings and put any
    difference right in one transaction (safe to run twice: the second run finds none)."""
    repairs = seats.repair_seat_counts(db.session, now=utcnow())
    db.session.commit()
    return len(repairs)

"""Scheduled scans that decide which reminders are due and write them to the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.orm import Session

from app.core.models import OutboxMessage
from app.core.outbox import enqueue
from app.core.types import utcnow
from app.courses.models import CourseSession, Enrolment, EnrolmentStatus


def queue_session_reminders(db_session: Session, *, days_before: Iterable[int]) -> int:
    """Write one reminder per booked person and lead time (e.g. 7 and 1 days), never twice.

    A person who booked after the lead time had begun gets no reminder for it (the booking
    confirmation was just sent). Returns how many reminders were queued.
    """
    now = utcnow()
    queued = 0
    leads = sorted(set(days_before))
    # Each lead time covers the dates between it and the next shorter one, so a scan that
    # runs late sends the one reminder that still makes sense, not all of them at once.
    for shorter, days in zip([0, *leads], leads, strict=False):
        prefix = f"reminder:{days}d:enrolment:"
        key = literal(prefix) + cast(Enrolment.id, String)
        candidates = db_session.execute(
            select(
                Enrolment.id,
                Enrolment.employee_id,
                Enrolment.session_id,
                Enrolment.updated_at,
                CourseSession.starts_at,
            )
            .join(Enrolment.session)
            .where(
                Enrolment.status == EnrolmentStatus.BOOKED.value,
                CourseSession.cancelled_at.is_(None),
                CourseSession.starts_at > now + timedelta(days=shorter),
                CourseSession.starts_at <= now + timedelta(days=days),
                ~exists().where(OutboxMessage.key == key),
            )
        ).all()
        lead = timedelta(days=days)
        for enrolment_id, employee_id, session_id, booked_at, starts_at in candidates:
            if booked_at > starts_at - lead:
                continue  # booked inside the lead time: the confirmation was just sent
            enqueue(
                db_session,
                key=f"{prefix}{enrolment_id}",
                kind="session_reminder",
                payload={
                    "enrolment_id": enrolment_id,
                    "employee_id": employee_id,
                    "session_id": session_id,
                    "days": days,
                },
            )
            queued += 1
    db_session.flush()
    return queued

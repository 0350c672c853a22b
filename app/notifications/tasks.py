"""Celery tasks of the notifications area (scheduled by beat, see config.CELERY)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from flask import current_app

from app.core.clock import local_today
from app.extensions import db
from app.notifications.delivery import deliver_pending
from app.notifications.scans import (
    queue_head_digests,
    queue_requirement_reminders,
    queue_session_reminders,
)


@shared_task(name="notifications.deliver_outbox")
def deliver_outbox() -> dict[str, int]:
    """Send everything due in the outbox; safe to run on several workers at once."""
    report = deliver_pending(db.session)
    return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed}


@shared_task(name="notifications.scan_session_reminders")
def scan_session_reminders() -> int:
    """Queue the reminders due before upcoming dates, then deliver them."""
    queued = queue_session_reminders(
        db.session, days_before=current_app.config["SESSION_REMINDER_DAYS"]
    )
    db.session.commit()
    deliver_pending(db.session)
    return queued


@shared_task(name="notifications.scan_requirement_reminders")
def scan_requirement_reminders() -> int:
    """Queue due-soon/overdue reminders, escalations and head digests, then deliver them."""
    queued = queue_all_requirement_messages(local_today())
    db.session.commit()
    deliver_pending(db.session)
    return queued


def queue_all_requirement_messages(today: date) -> int:
    """The requirement scans with the configured intervals (also used by the CLI)."""
    config = current_app.config
    queued = queue_requirement_reminders(
        db.session,
        today=today,
        due_soon_days=config["DUE_SOON_DAYS"],
        repeat_days=config["REQUIREMENT_REMINDER_REPEAT_DAYS"],
        escalate_to_head_days=config["ESCALATE_TO_HEAD_AFTER_DAYS"],
        escalate_to_hr_days=config["ESCALATE_TO_HR_AFTER_DAYS"],
    )
    return queued + queue_head_digests(
        db.session, today=today, due_soon_days=config["DUE_SOON_DAYS"]
    )

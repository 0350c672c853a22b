"""Celery tasks of the notifications area (scheduled by beat, see config.CELERY)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.notifications.delivery import deliver_pending
from app.notifications.scans import queue_session_reminders


@shared_task(name="notifications.deliver_outbox")
def deliver_outbox() -> dict:
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

"""Background tasks of the reports area."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from app.core.clock import local_today
from app.extensions import db
from app.reports.services import take_snapshot


@shared_task(name="reports.take_coverage_snapshot")
def take_coverage_snapshot() -> int:
    """Store this month's coverage for the trend chart (safe to run twice a day)."""
    stored = take_snapshot(
        db.session, today=local_today(), due_soon_days=current_app.config["DUE_SOON_DAYS"]
    )
    db.session.commit()
    return stored


@shared_task(name="reports.build_export")
def build_export(report_id: int) -> None:
    """Build a large export in the background (see reports.background)."""
    from app.reports import background

    background.build_export(
        db.session,
        report_id,
        today=local_today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
    )

"""Background tasks of the requirements area: the coverage kept for reports."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from app.core.clock import local_today
from app.extensions import db
from app.requirements import counts


@shared_task(name="requirements.build_coverage_counts")
def build_coverage_counts() -> bool:
    """Count today's coverage per department and requirement (a no-op once it is counted,
    so the beat runs it every few minutes and a new day is counted soon after midnight)."""
    return counts.build(
        db.session, day=local_today(), due_soon_days=current_app.config["DUE_SOON_DAYS"]
    )

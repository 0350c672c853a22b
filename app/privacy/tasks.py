"""Celery task of the privacy area: the nightly retention run."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from app.core.types import utcnow
from app.extensions import db
from app.privacy import retention


@shared_task(name="privacy.run_retention")
def run_retention() -> dict[str, int]:
    """Report what retention is due tonight; carry it out only with ``RETENTION_APPLY``."""
    config = current_app.config
    report = retention.run(
        db.session,
        periods=retention.Periods.from_config(config),
        now=utcnow(),
        apply=bool(config["RETENTION_APPLY"]),
        source="nightly",
    )
    return dict(report.counts)

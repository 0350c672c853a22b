"""Background tasks of the requirements area: rebuilding and checking the coverage facts
(thin wrappers around ``facts`` and ``fact_checks``; safe to run twice, see config.CELERY)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from app.extensions import db
from app.requirements import fact_checks, facts


@shared_task(name="requirements.rebuild_coverage")
def rebuild_coverage(rebuild_id: int | None = None) -> int:
    """Run this rebuild, or (None: the periodic sweep) every one waiting or left by a dead
    worker; returns how many ran here."""
    return facts.run_pending_rebuilds(db.session, rebuild_id)


@shared_task(name="requirements.check_coverage")
def check_coverage(check_id: int | None = None, kind: str = "sample") -> int | None:
    """Run this recorded check, or (None: beat) record and run one of ``kind`` (a sample, or
    everyone); returns the number of differences (None: the check ran elsewhere)."""
    if check_id is None:
        check_id = fact_checks.request_check(db.session, kind).id
        db.session.commit()
    check = fact_checks.run_check(
        db.session, check_id, sample_size=current_app.config["COVERAGE_CHECK_SAMPLE"]
    )
    return None if check is None else check.differences

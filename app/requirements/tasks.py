"""Background tasks of the requirements area: the coverage kept for reports (rebuilding,
checking and counting it; thin wrappers, safe to run twice, see config.CELERY)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from app.core.clock import local_today
from app.extensions import db
from app.requirements import counts, fact_checks, facts


@shared_task(name="requirements.build_coverage_counts")
def build_coverage_counts() -> bool:
    """Count today's coverage per department and requirement (a no-op once it is counted,
    so the beat runs it every few minutes and a new day is counted soon after midnight)."""
    return counts.build(
        db.session, day=local_today(), due_soon_days=current_app.config["DUE_SOON_DAYS"]
    )


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

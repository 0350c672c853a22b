"""Background tasks of the imports area: thin wrappers around ``services`` (safe to run twice)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from app.core.clock import local_today
from app.extensions import db
from app.imports import services


@shared_task(name="imports.check")
def check_import(run_id: int) -> None:
    """Check an uploaded file and store its preview."""
    services.check(db.session, run_id, today=local_today())


@shared_task(name="imports.apply")
def apply_import(run_id: int) -> None:
    """Apply a confirmed import in one transaction."""
    invitations = services.InvitationSettings(
        valid_for=timedelta(days=current_app.config["INVITATION_VALID_DAYS"]),
        secret=current_app.config["SECRET_KEY"],
    )
    services.apply(db.session, run_id, today=local_today(), invitations=invitations)

"""Celery task of the API: stored answers to idempotent requests are kept only a few days."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from app.api import services
from app.core.types import utcnow
from app.extensions import db


@shared_task(name="api.forget_old_answers")
def forget_old_answers() -> int:
    days = current_app.config["API_IDEMPOTENCY_RETENTION_DAYS"]
    return services.forget_old_answers(db.session, older_than=utcnow() - timedelta(days=days))

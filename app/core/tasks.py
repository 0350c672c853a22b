"""Background tasks of the core area."""

from __future__ import annotations

import socket

from celery import shared_task

from app.core import services
from app.extensions import db


@shared_task(name="core.record_heartbeat")
def record_heartbeat(hostname: str | None = None) -> int:
    """Record that this worker is alive; returns how often it has reported."""
    heartbeat = services.record_heartbeat(db.session, hostname=hostname or socket.gethostname())
    runs = heartbeat.runs
    db.session.commit()
    return runs

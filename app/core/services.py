"""Services shared by every area: worker heartbeats, redirect safety."""

from __future__ import annotations

from typing import TypeGuard

from sqlalchemy import select

from app.core.models import WorkerHeartbeat
from app.core.types import DbSession, utcnow


def record_heartbeat(db_session: DbSession, *, hostname: str) -> WorkerHeartbeat:
    """Note that a worker node is alive; running it twice only moves the timestamp."""
    heartbeat = db_session.scalar(
        select(WorkerHeartbeat).where(WorkerHeartbeat.hostname == hostname)
    )
    if heartbeat is None:
        heartbeat = WorkerHeartbeat(hostname=hostname, runs=0)
        db_session.add(heartbeat)
    heartbeat.last_seen_at = utcnow()
    heartbeat.runs = (heartbeat.runs or 0) + 1
    db_session.flush()
    return heartbeat


def list_heartbeats(db_session: DbSession) -> list[WorkerHeartbeat]:
    """All worker nodes that ever reported, most recent first."""
    return list(
        db_session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen_at.desc()))
    )


def is_safe_redirect_path(target: str | None) -> TypeGuard[str]:
    """True only for a local path such as ``/courses?x=1``.

    Rejects anything a browser could read as another host: ``//evil``, ``http:evil``,
    ``/\\evil``, and control characters (browsers drop tabs and newlines, turning
    ``/\\t/evil`` into ``//evil``).
    """
    if not target or not target.startswith("/"):
        return False
    if target.startswith("//") or "\\" in target:
        return False
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return False
    from urllib.parse import urlsplit

    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc

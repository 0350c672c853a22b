"""Writing to the transactional outbox: any area records a message to send with its change."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.models import OutboxMessage


def enqueue(db_session: Session, *, key: str, kind: str, payload: dict) -> OutboxMessage:
    """Record a message under ``key`` once; a second call with the same key returns the first."""
    existing = db_session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if existing is not None:
        return existing
    message = OutboxMessage(key=key, kind=kind, payload=payload)
    try:
        with db_session.begin_nested():
            db_session.add(message)
    except IntegrityError:  # written by a concurrent transaction in the meantime
        return db_session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one()
    return message

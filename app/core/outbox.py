"""Writing to the transactional outbox: any area records a message to send with its change."""

from __future__ import annotations

import logging

from flask import current_app, g, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.models import OutboxMessage

logger = logging.getLogger(__name__)
#: Key in ``Session.info``: this transaction wrote outbox rows.
WRITTEN = "outbox_written"


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
    db_session.info[WRITTEN] = True
    return message


def note_commit(session: Session) -> None:
    """``after_commit`` listener: remember that this app context committed outbox rows."""
    if session.info.pop(WRITTEN, False) and has_app_context():
        g.outbox_committed = True


def deliver_when_done(_error: BaseException | None = None) -> None:
    """Teardown: ask for delivery now instead of at the next sweep, if rows were committed.

    It runs after the context's database session is closed, so in-process delivery (the
    embedded default) never waits for a second pooled connection while holding the first.
    A failure here (say, Redis is down) must not fail a request whose data is committed:
    it is logged, and the periodic sweep sends the messages later.
    """
    if not g.pop("outbox_committed", False):
        return
    kick = current_app.extensions.get("outbox_kick")
    if kick is None or not current_app.config.get("OUTBOX_KICK_ON_COMMIT", True):
        return
    try:
        kick()
    except Exception:
        logger.warning(
            "Could not ask for outbox delivery; the sweep will send later", exc_info=True
        )

"""Writing to the transactional outbox: any area records a message to send with its change."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

from flask import current_app, g, has_app_context
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core.models import MessageKind, OutboxMessage
from app.core.types import DbSession

logger = logging.getLogger(__name__)
#: Key in ``Session.info``: this transaction wrote outbox rows.
WRITTEN = "outbox_written"


class NewMessage(NamedTuple):
    """One message for ``enqueue_many``."""

    key: str
    kind: MessageKind
    #: What the message is about, as ids and ISO dates (it is stored as JSON).
    payload: dict[str, object]


def enqueue(
    db_session: DbSession, *, key: str, kind: MessageKind, payload: dict[str, object]
) -> bool:
    """Record a message under ``key`` once; True when this call wrote it (a second call, or a
    concurrent transaction, with the same key writes nothing)."""
    return enqueue_many(db_session, [NewMessage(key, kind, payload)]) == 1


def enqueue_many(db_session: DbSession, messages: Sequence[NewMessage]) -> int:
    """Record many messages at once, skipping keys already written; returns how many are new.
    One ``INSERT … ON CONFLICT (key) DO NOTHING`` per 500 messages, on SQLite and PostgreSQL."""
    dialect = db_session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    added = 0
    for start in range(0, len(messages), 500):
        rows = [
            {"key": m.key, "kind": m.kind.value, "payload": m.payload}
            for m in messages[start : start + 500]
        ]
        written = db_session.scalars(
            insert(OutboxMessage)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxMessage.id)
        ).all()
        added += len(written)
    if added:
        db_session.info[WRITTEN] = True
    return added


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

"""One list of message kinds: what producers may write, the database accepts, and mail says."""

import pytest
from sqlalchemy.exc import IntegrityError

from app.core.models import MessageKind, OutboxMessage
from app.core.outbox import enqueue
from app.courses.services.enrolment import NOTIFIED_ACTIONS
from app.notifications.messages import MESSAGE_TYPES


def test_the_database_accepts_every_kind(db):
    """A kind added to ``MessageKind`` needs a migration that widens the CHECK constraint."""
    for kind in MessageKind:
        enqueue(db.session, key=f"kind:{kind}", kind=kind, payload={})
    db.session.flush()
    assert sorted(db.session.scalars(db.select(OutboxMessage.kind))) == sorted(MessageKind)


def test_the_database_refuses_a_kind_nobody_knows(db):
    db.session.add(OutboxMessage(key="kind:unknown", kind="carrier_pigeon", payload={}))
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_every_step_people_are_told_about_is_a_kind():
    """Enrolment writes the message kind named like its step."""
    assert {action.value for action in NOTIFIED_ACTIONS} <= {kind.value for kind in MessageKind}


def test_every_kind_says_something():
    """A kind without an entry in MESSAGE_TYPES would be queued but never sent."""
    assert set(MESSAGE_TYPES) == set(MessageKind)

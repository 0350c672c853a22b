"""Tables that belong to no single area."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import UTCDateTime, sql_values, utcnow
from app.extensions import Model


class WorkerHeartbeat(Model):
    """The last time a Celery worker node ran the heartbeat task; shown on the status page."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), unique=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    runs: Mapped[int] = mapped_column(default=0)


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    #: Claimed by a worker that is sending it; reclaimed if the claim is older than the lease.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class MessageKind(enum.StrEnum):
    """What an outbox message is about; the notifications area knows what each kind says."""

    # Steps of an enrolment (the values of the same ``EnrolmentAction``s) and of its date.
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_CHANGED = "session_changed"
    SESSION_REMINDER = "session_reminder"
    # Mandatory trainings: to the person, then up the escalation ladder, and the heads' digest.
    REQUIREMENT_DUE_SOON = "requirement_due_soon"
    REQUIREMENT_OVERDUE = "requirement_overdue"
    ESCALATION_HEAD = "escalation_head"
    ESCALATION_HR = "escalation_hr"
    HEAD_DIGEST = "head_digest"
    # Login links (auth): "forgot password" and invitations to set one.
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a message kind, not a password
    INVITATION = "invitation"


#: Kinds whose recipient is the employee named in the payload (not a head or HR).
TO_THE_EMPLOYEE = (
    MessageKind.BOOKED,
    MessageKind.WAITLISTED,
    MessageKind.PROMOTED,
    MessageKind.CANCELLED,
    MessageKind.SESSION_CANCELLED,
    MessageKind.SESSION_CHANGED,
    MessageKind.SESSION_REMINDER,
    MessageKind.REQUIREMENT_DUE_SOON,
    MessageKind.REQUIREMENT_OVERDUE,
)


class OutboxMessage(Model):
    """A message to send, written in the same transaction as the change that causes it.

    The unique ``key`` names the message (``enrolment-event:42``), so whatever runs twice
    writes it once. Delivery (the notifications area) claims queued rows, sends, marks them sent.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(s.value) for s in OutboxStatus)})", name="status_known"
        ),
        CheckConstraint(f"kind IN ({sql_values(MessageKind)})", name="kind_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_messages_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    #: A ``MessageKind``: what the message is about.
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Not sent before this time (backoff after a failure).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the claim was made or last renewed (a worker renews it before each message it sends).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The delivery run holding the claim; only it may send the message or mark it sent.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Where it went, for HR's outbox page ("an employee without e-mail" shows up here).
    recipient: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    #: When the retention run cleared what the message said (its payload and errors) after
    #: ``OUTBOX_BODY_RETENTION_DAYS``; kind, recipient, subject and times stay.
    body_cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    delivery_attempts: Mapped[list[OutboxAttempt]] = relationship(
        back_populates="message", order_by="OutboxAttempt.id", cascade="all, delete-orphan"
    )


class AttemptOutcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    #: Another run took the message over before this one could mark it (sent or not).
    CLAIM_LOST = "claim_lost"


class OutboxAttempt(Model):
    """One try to send a message, recorded (and committed) before the mail server is reached.

    An attempt without ``finished_at`` was cut off (a worker killed mid-send): the mail may
    have gone out, so a later attempt may have sent it a second time. HR's outbox page shows it.
    """

    __tablename__ = "outbox_attempts"
    __table_args__ = (
        CheckConstraint(
            f"outcome IS NULL OR outcome IN ({sql_values(AttemptOutcome)})", name="outcome_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str] = mapped_column(Text, default="")

    message: Mapped[OutboxMessage] = relationship(back_populates="delivery_attempts")

"""Delivering the outbox: claim a message, send it, mark it sent.

Delivery is at least once: a message is claimed (``queued`` → ``sending``) and committed before
it is sent, and marked ``sent`` after. A worker killed in between leaves the claim behind; once
the claim is older than the lease another worker takes it over. Only that rare crash can send a
message twice, and then with the same ``Message-ID``. Temporary failures are retried with
growing pauses; permanent ones (the server refused, no address) are marked failed for HR.

Unlike other services this one commits: each message is its own transaction, so one bad
message or a crash mid-batch never loses or repeats the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import joinedload

from app.core.models import OutboxMessage, OutboxStatus
from app.core.types import DbSession, utcnow
from app.courses.models import CourseSession, Enrolment
from app.notifications.mailer import Mailer, PermanentFailure, TemporaryFailure
from app.notifications.messages import MailSettings, NoRecipient, UnknownMessage, build_message
from app.staff.models import Employee

logger = logging.getLogger(__name__)

#: A claim older than this is taken over: the worker that made it is presumed dead.
#: (``OUTBOX_CLAIM_LEASE_SECONDS`` overrides it; it must exceed the time one message takes.)
CLAIM_LEASE = timedelta(minutes=10)
#: Pause before the n-th retry (the last one repeats); after MAX_ATTEMPTS it is failed.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = 8


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_pending(
    db_session: DbSession, *, batch_size: int = 200, mailer: Mailer | None = None
) -> DeliveryReport:
    """Send every message that is due, batch after batch; commits after each message."""
    report = DeliveryReport()
    settings = mail_settings()
    own_mailer = mailer is None
    mailer = mailer or Mailer(current_app.config)
    session = db_session() if callable(db_session) else db_session  # the scoped session's own
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        while True:
            claimed = claim_due(session, limit=batch_size)
            session.commit()
            if not claimed:
                return report
            session.expire_all()  # objects loaded before the claim may be stale
            _prefetch(session, claimed)
            for message_id in claimed:
                deliver_one(session, message_id, mailer=mailer, settings=settings, report=report)
                session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
        session.expire_all()
        if own_mailer:
            mailer.close()


def claim_due(db_session: DbSession, *, limit: int, now: datetime | None = None) -> list[int]:
    """Mark up to ``limit`` due messages as being sent by this worker; returns their ids."""
    now = now or utcnow()
    lease = _claim_lease()
    due = or_(
        and_(
            OutboxMessage.status == OutboxStatus.QUEUED.value, OutboxMessage.next_attempt_at <= now
        ),
        and_(
            OutboxMessage.status == OutboxStatus.SENDING.value,
            OutboxMessage.claimed_at < now - lease,
        ),
    )
    # One statement for the batch. On PostgreSQL the rows another worker is claiming right now
    # are skipped (SKIP LOCKED), and the repeated condition makes a row won by exactly one
    # worker; SQLite runs one writer at a time anyway. The batch is a CTE, evaluated once: as
    # an IN (subquery) PostgreSQL may re-run it per row and claim more than ``limit``.
    batch = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("claim_batch")
    )
    claimed = db_session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id == batch.c.id, due)
        .values(status=OutboxStatus.SENDING.value, claimed_at=now)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed)


def deliver_one(
    db_session: DbSession,
    message_id: int,
    *,
    mailer: Mailer,
    settings: MailSettings,
    report: DeliveryReport,
) -> None:
    """Build and send one claimed message and record the outcome (the caller commits)."""
    outbox = db_session.get(OutboxMessage, message_id)
    if outbox is None or outbox.status != OutboxStatus.SENDING.value:
        return
    outbox.attempts += 1
    try:
        message = build_message(db_session, outbox, settings)
        outbox.recipient = str(message["To"])[:254]
        outbox.subject = str(message["Subject"])[:300]
        mailer.send(message)
    except NoRecipient:
        _fail(outbox, "no e-mail address", report)
    except UnknownMessage as error:
        _fail(outbox, f"nothing to send: {error}", report)
    except PermanentFailure as error:
        _fail(outbox, str(error), report)
    except TemporaryFailure as error:
        if outbox.attempts >= MAX_ATTEMPTS:
            _fail(outbox, str(error), report)
        else:
            pause = BACKOFF[min(outbox.attempts, len(BACKOFF)) - 1]
            outbox.status = OutboxStatus.QUEUED.value
            outbox.next_attempt_at = utcnow() + pause
            outbox.last_error = str(error)[:2000]
            report.retrying += 1
    except Exception as error:  # a template or data error fails this message, not the batch
        logger.exception("Building outbox message %s failed", outbox.key)
        _fail(outbox, f"{type(error).__name__}: {error}", report)
    else:
        outbox.status = OutboxStatus.SENT.value
        outbox.sent_at = utcnow()
        outbox.last_error = ""
        report.sent += 1
    db_session.flush()


def retry_failed(db_session: DbSession, message_ids: list[int] | None = None) -> int:
    """HR: queue failed messages again (all, or the given ones); returns how many."""
    query = (
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED.value)
        .values(status=OutboxStatus.QUEUED.value, next_attempt_at=utcnow(), attempts=0)
        .execution_options(synchronize_session=False)
    )
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(message_ids))
    result = db_session.execute(query)
    assert isinstance(result, CursorResult)  # an UPDATE without RETURNING: it counts rows
    return result.rowcount


def mail_settings() -> MailSettings:
    config = current_app.config
    return MailSettings(
        sender=config["MAIL_DEFAULT_SENDER"],
        base_url=config["BASE_URL"],
        uid_domain=config["CALENDAR_UID_DOMAIN"],
        city_name=config["CITY_NAME"],
    )


def _prefetch(db_session: DbSession, message_ids: list[int]) -> None:
    """Load a batch's rows and what their messages show in a few queries, not a few per row."""
    rows = db_session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(message_ids))).all()
    payloads = [row.payload or {} for row in rows]
    if employee_ids := _ids_named(payloads, "employee_id"):
        db_session.scalars(select(Employee).where(Employee.id.in_(employee_ids))).all()
    if session_ids := _ids_named(payloads, "session_id"):
        db_session.scalars(
            select(CourseSession)
            .where(CourseSession.id.in_(session_ids))
            .options(joinedload(CourseSession.course))
        ).all()
    if enrolment_ids := _ids_named(payloads, "enrolment_id"):
        db_session.scalars(select(Enrolment).where(Enrolment.id.in_(enrolment_ids))).all()


def _ids_named(payloads: list[dict[str, Any]], key: str) -> set[int]:
    return {payload[key] for payload in payloads if isinstance(payload.get(key), int)}


def _claim_lease() -> timedelta:
    seconds = current_app.config.get("OUTBOX_CLAIM_LEASE_SECONDS")
    return timedelta(seconds=seconds) if seconds else CLAIM_LEASE


def _fail(outbox: OutboxMessage, reason: str, report: DeliveryReport) -> None:
    outbox.status = OutboxStatus.FAILED.value
    outbox.last_error = reason[:2000]
    report.failed += 1
    report.errors.append(f"{outbox.key}: {reason}")

"""Delivering the outbox: claim messages, send each, mark it sent.

Delivery is at least once: a run claims a batch (``queued`` → ``sending``, stamped with the run's
name) and commits. Before each message it renews that message's claim and records the attempt,
in one commit, then sends, then marks the outcome. The lease therefore only has to cover one
message, however slow the mail server and however long the batch; a message whose claim has
run out is taken over by another run, and the first run, finding the claim no longer its own,
neither sends nor marks it. Only a worker killed while the mail server has a message can send
it twice (the next run takes it over after the lease), and then with the same ``Message-ID``;
the cut-off attempt stays on record and HR's outbox page shows it. Temporary failures are
retried with growing pauses; permanent ones (the server refused, no address) are marked failed.

Unlike other services this one commits: each message has its own transactions, so one bad
message or a crash mid-batch never loses or repeats the others.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import joinedload

from app.core.models import AttemptOutcome, OutboxAttempt, OutboxMessage, OutboxStatus
from app.core.sql import rows_updated
from app.core.types import DbSession, utcnow
from app.courses.models import CourseSession, Enrolment
from app.notifications.mailer import Mailer, PermanentFailure, TemporaryFailure
from app.notifications.messages import MailSettings, NoRecipient, UnknownMessage, build_message
from app.staff.models import Employee

logger = logging.getLogger(__name__)

#: A claim older than this is taken over: the worker that made it is presumed dead.
#: (``OUTBOX_CLAIM_LEASE_SECONDS`` overrides it; it must exceed the time one message takes.)
CLAIM_LEASE = timedelta(minutes=10)
#: Why a message to someone without an e-mail address failed; their head prints it instead.
NO_ADDRESS = "no e-mail address"
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
    """Send every message that is due, batch after batch; commits around each message."""
    report = DeliveryReport()
    settings = mail_settings()
    own_mailer = mailer is None
    mailer = mailer or Mailer(current_app.config)
    session = db_session() if callable(db_session) else db_session  # the scoped session's own
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    worker = _run_name()
    try:
        while True:
            claimed = claim_due(session, limit=batch_size, worker=worker)
            session.commit()
            if not claimed:
                return report
            session.expire_all()  # objects loaded before the claim may be stale
            _prefetch(session, claimed)
            for message_id in claimed:
                deliver_one(
                    session,
                    message_id,
                    worker=worker,
                    mailer=mailer,
                    settings=settings,
                    report=report,
                )
    finally:
        session.expire_on_commit = expire_on_commit
        session.expire_all()
        if own_mailer:
            mailer.close()


def claim_due(
    db_session: DbSession, *, limit: int, worker: str, now: datetime | None = None
) -> list[int]:
    """Mark up to ``limit`` due messages as being sent by ``worker``; returns their ids."""
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
        .values(status=OutboxStatus.SENDING.value, claimed_at=now, claimed_by=worker)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed)


def deliver_one(
    db_session: DbSession,
    message_id: int,
    *,
    worker: str,
    mailer: Mailer,
    settings: MailSettings,
    report: DeliveryReport,
) -> None:
    """Send one message ``worker`` has claimed, and record the outcome; commits.

    The claim is renewed and the attempt recorded in one commit before the mail server is
    reached, so a slow server never lets the lease run out under a message being sent, and a
    crash mid-send leaves a visible, unfinished attempt. The outcome is written only while the
    claim is still this worker's: a message another worker took over is neither sent nor marked
    here.
    """
    now = utcnow()
    attempts = db_session.scalar(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.SENDING.value,
            OutboxMessage.claimed_by == worker,
        )
        .values(claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.attempts)
        .execution_options(synchronize_session=False)
    )
    if attempts is None:  # sent, or taken over by another worker, meanwhile
        db_session.commit()
        return
    attempt = OutboxAttempt(message_id=message_id, worker=worker, started_at=now)
    db_session.add(attempt)
    outbox = db_session.get(OutboxMessage, message_id)
    assert outbox is not None  # claimed by us a moment ago, and rows are never deleted
    try:
        message = build_message(db_session, outbox, settings)
    except NoRecipient:
        _finish(db_session, outbox, attempt, worker, report, failed=NO_ADDRESS)
        return
    except UnknownMessage as error:
        _finish(db_session, outbox, attempt, worker, report, failed=f"nothing to send: {error}")
        return
    except Exception as error:  # a template or data error fails this message, not the batch
        logger.exception("Building outbox message %s failed", outbox.key)
        _finish(
            db_session, outbox, attempt, worker, report, failed=f"{type(error).__name__}: {error}"
        )
        return
    outbox.recipient = str(message["To"])[:254]
    outbox.subject = str(message["Subject"])[:300]
    db_session.commit()  # no transaction stays open while the mail server works

    try:
        mailer.send(message)
    except PermanentFailure as error:
        _finish(db_session, outbox, attempt, worker, report, failed=str(error))
    except TemporaryFailure as error:
        if attempts >= MAX_ATTEMPTS:
            _finish(db_session, outbox, attempt, worker, report, failed=str(error))
        else:
            pause = BACKOFF[min(attempts, len(BACKOFF)) - 1]
            _finish(
                db_session, outbox, attempt, worker, report, retry_after=pause, error=str(error)
            )
    except Exception as error:  # e.g. the connection broke: try again later
        logger.exception("Sending outbox message %s failed", outbox.key)
        pause = BACKOFF[min(attempts, len(BACKOFF)) - 1]
        _finish(db_session, outbox, attempt, worker, report, retry_after=pause, error=str(error))
    else:
        _finish(db_session, outbox, attempt, worker, report)


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
    return rows_updated(db_session, query)


def cut_off_attempts(db_session: DbSession, message_ids: list[int]) -> dict[int, int]:
    """Per message, the tries that never finished (a worker died while the mail server had
    the message): the mail may have gone out, so the message may have arrived twice."""
    rows = db_session.execute(
        select(OutboxAttempt.message_id, func.count(OutboxAttempt.id))
        .join(OutboxMessage, OutboxMessage.id == OutboxAttempt.message_id)
        .where(
            OutboxAttempt.message_id.in_(message_ids),
            OutboxAttempt.finished_at.is_(None),
            # not the try in flight right now
            or_(
                OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by != OutboxAttempt.worker
            ),
        )
        .group_by(OutboxAttempt.message_id)
    ).all()
    return {message_id: count for message_id, count in rows}


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


def _finish(
    db_session: DbSession,
    outbox: OutboxMessage,
    attempt: OutboxAttempt,
    worker: str,
    report: DeliveryReport,
    *,
    failed: str | None = None,
    retry_after: timedelta | None = None,
    error: str = "",
) -> None:
    """Write the attempt's outcome (sent, retry later, or failed) and commit, marking the
    message only if the claim is still ``worker``'s."""
    now = utcnow()
    values: dict[str, object]
    if failed is not None:
        outcome, values, error = (
            AttemptOutcome.FAILED,
            {"status": OutboxStatus.FAILED.value},
            failed,
        )
    elif retry_after is not None:
        outcome = AttemptOutcome.RETRY
        values = {"status": OutboxStatus.QUEUED.value, "next_attempt_at": now + retry_after}
    else:
        outcome, values = AttemptOutcome.SENT, {"status": OutboxStatus.SENT.value, "sent_at": now}
    marked = rows_updated(
        db_session,
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox.id,
            OutboxMessage.status == OutboxStatus.SENDING.value,
            OutboxMessage.claimed_by == worker,
        )
        .values(**values, last_error=error[:2000], claimed_by=None)
        .execution_options(synchronize_session=False),
    )
    if marked == 0:
        outcome = AttemptOutcome.CLAIM_LOST
        logger.warning("Outbox message %s was taken over while %s sent it", outbox.key, worker)
    elif outcome is AttemptOutcome.SENT:
        report.sent += 1
    elif outcome is AttemptOutcome.RETRY:
        report.retrying += 1
    else:
        report.failed += 1
        report.errors.append(f"{outbox.key}: {error}")
    attempt.finished_at, attempt.outcome, attempt.error = now, outcome.value, error[:2000]
    db_session.commit()
    db_session.expire(outbox)


def _run_name() -> str:
    """Names one delivery run (host, process, random part): the owner of its claims."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"

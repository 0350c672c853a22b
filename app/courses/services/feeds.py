"""A person's calendar subscription: one private address serving their booked dates.

The address is ``/courses/calendar/<feed id>/<token>.ics``. The token is an HMAC of the feed's
random nonce under the app's secret key: the database alone gives no working address, every
node can check it without shared state, and a new nonce retires the old address at once.
Changing ``SECRET_KEY`` retires every address (people then copy a new one).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.core.types import DbSession, utcnow
from app.courses.models import (
    SEATED_STATUSES,
    CalendarFeed,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
)
from app.staff.models import Employee

#: Dates that began longer ago than this leave the feed (calendars keep what they have).
PAST_DATES_KEPT = timedelta(days=180)


def feed_of(db_session: DbSession, employee: Employee) -> CalendarFeed | None:
    return db_session.scalar(select(CalendarFeed).where(CalendarFeed.employee_id == employee.id))


def start_feed(db_session: DbSession, employee: Employee) -> CalendarFeed:
    """Give the person an address, or a new one (the old stops working at once).

    Two clicks at the same moment both end with the one row: the second's INSERT waits for the
    first's and, refused by the unique key, renews the row the first made."""
    feed = feed_of(db_session, employee)
    if feed is None:
        try:
            with db_session.begin_nested():
                feed = CalendarFeed(employee_id=employee.id, nonce=secrets.token_urlsafe(32))
                db_session.add(feed)
        except IntegrityError:
            feed = feed_of(db_session, employee)
            if feed is None:  # made and ended again in between: nothing to renew
                raise
    feed.nonce = secrets.token_urlsafe(32)
    feed.created_at = utcnow()
    feed.last_fetched_at = None
    db_session.flush()
    return feed


def stop_feed(db_session: DbSession, employee: Employee) -> bool:
    """End the subscription; the address stops working. False if there was none (also when
    another click ended it a moment ago)."""
    ended = db_session.execute(
        delete(CalendarFeed)
        .where(CalendarFeed.employee_id == employee.id)
        .returning(CalendarFeed.id)
    )
    return ended.first() is not None


def feed_token(feed: CalendarFeed, *, secret: str) -> str:
    digest = hmac.new(
        secret.encode(), f"calendar-feed:{feed.id}:{feed.nonce}".encode(), hashlib.sha256
    ).digest()
    return urlsafe_b64encode(digest).decode().rstrip("=")


def find_feed(
    db_session: DbSession, feed_id: int, token: str, *, secret: str
) -> CalendarFeed | None:
    """The feed this address names, or None for an unknown, retired or mistyped one."""
    feed = db_session.get(CalendarFeed, feed_id)
    expected = feed_token(feed, secret=secret) if feed is not None else "-" * 43
    if not hmac.compare_digest(expected.encode(), token.encode()) or feed is None:
        return None
    return feed


def feed_sessions(
    db_session: DbSession, feed: CalendarFeed, *, now: datetime
) -> list[CourseSession]:
    """The person's dates with a seat (booked, or attended since), cancelled dates included
    (they show as cancelled), from half a year ago on, soonest first."""
    return list(
        db_session.scalars(
            select(CourseSession)
            .join(Enrolment, Enrolment.session_id == CourseSession.id)
            .where(
                Enrolment.employee_id == feed.employee_id,
                or_(
                    Enrolment.status.in_(SEATED_STATUSES),
                    # Booked when the date was called off: shown as cancelled, not just gone.
                    and_(
                        CourseSession.cancelled_at.is_not(None),
                        Enrolment.status == EnrolmentStatus.CANCELLED.value,
                    ),
                ),
                CourseSession.starts_at >= now - PAST_DATES_KEPT,
            )
            .options(joinedload(CourseSession.course))
            .order_by(CourseSession.starts_at, CourseSession.id)
        )
    )


def fetched(feed: CalendarFeed, *, now: datetime) -> None:
    """Note the fetch, at most once an hour (calendars poll often; no write per poll)."""
    if feed.last_fetched_at is None or now - feed.last_fetched_at > timedelta(hours=1):
        feed.last_fetched_at = now

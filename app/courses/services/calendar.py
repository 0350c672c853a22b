"""iCalendar files for sessions, as Outlook and Thunderbird accept them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

from icalendar import Calendar, Event, Timezone

from app.core.types import BERLIN, utcnow
from app.courses.models import CourseSession


def session_uid(course_session: CourseSession, *, uid_domain: str) -> str:
    """One UID per session for its whole life, so every update replaces the same entry."""
    return f"course-session-{course_session.id}@{uid_domain}"


def session_calendar(
    course_session: CourseSession,
    *,
    uid_domain: str,
    method: str = "PUBLISH",
    organizer_email: str | None = None,
    attendee_email: str | None = None,
) -> bytes:
    """The session as a calendar file; ``SEQUENCE`` follows the session's changes.

    A cancelled session yields ``STATUS:CANCELLED`` (and ``METHOD:CANCEL`` when asked for), so
    calendars remove the entry.
    """
    calendar = _calendar(method)
    event = _event(course_session, uid_domain=uid_domain, cancelled=method == "CANCEL")
    if organizer_email:
        event.add("organizer", f"mailto:{organizer_email}")
    if attendee_email:
        event.add("attendee", f"mailto:{attendee_email}", parameters={"ROLE": "REQ-PARTICIPANT"})
    calendar.add_component(_berlin_timezone(course_session.starts_at.year))
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()  # icalendar leaves its return type unannotated
    return ical


def feed_calendar(sessions: Sequence[CourseSession], *, uid_domain: str, name: str) -> bytes:
    """A subscription feed of several sessions, with the same UIDs and sequence numbers as the
    invitations, so a calendar that has both keeps one entry per date."""
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for year in sorted({s.starts_at.astimezone(BERLIN).year for s in sessions}):
        calendar.add_component(_berlin_timezone(year))
    for course_session in sessions:
        calendar.add_component(_event(course_session, uid_domain=uid_domain, cancelled=False))
    ical: bytes = calendar.to_ical()
    return ical


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Schulungsmanagement//Interkulturelle Fortbildung//DE")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


def _event(course_session: CourseSession, *, uid_domain: str, cancelled: bool) -> Event:
    event = Event()
    event.add("uid", session_uid(course_session, uid_domain=uid_domain))
    event.add("sequence", course_session.sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", course_session.starts_at.astimezone(BERLIN))
    event.add("dtend", course_session.ends_at.astimezone(BERLIN))
    event.add("summary", course_session.course.title)
    location = course_session.location or course_session.online_url
    if location:
        event.add("location", location)
    if course_session.online_url:
        event.add("url", course_session.online_url)
    description = "\n\n".join(
        part for part in (course_session.course.description, course_session.notes) if part
    )
    if description:
        event.add("description", description)
    if course_session.cancelled_at is not None or cancelled:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    return event


@lru_cache(maxsize=8)
def _berlin_timezone(year: int) -> Timezone:
    """The VTIMEZONE for the session's year and its neighbours (built once: it is costly)."""
    return Timezone.from_tzid(
        "Europe/Berlin", first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1)
    )

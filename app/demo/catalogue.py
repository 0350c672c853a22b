"""The demo city's catalogue: the courses of ``data.COURSES`` and their past and coming dates."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.core.types import BERLIN, DbSession
from app.courses.models import Course, CourseFormat, CourseSession
from app.demo import data

#: Past sessions reach back this far; older completions were recorded without a session.
PAST_DAYS = 720
UPCOMING_DAYS = 150


@dataclass
class Catalogue:
    """The courses by code, and each course's sessions, spread evenly over their window."""

    courses: dict[str, Course]
    upcoming: dict[str, list[CourseSession]]
    past: dict[str, list[CourseSession]]

    def sessions(self) -> list[CourseSession]:
        groups = [*self.upcoming.values(), *self.past.values()]
        return [session for sessions in groups for session in sessions]


def add_catalogue(db_session: DbSession, rng: random.Random, today: date) -> Catalogue:
    """Add every course of ``data.COURSES`` with its sessions; flushed, so they have ids."""
    catalogue = Catalogue(courses={}, upcoming={}, past={})
    planned: set[tuple[str, date]] = set()  # at most one session of a course a day
    for spec in data.COURSES:
        course = catalogue.courses[spec.code] = Course(
            code=spec.code,
            title=spec.title,
            description=spec.description,
            learning_goals=spec.goals,
            format=spec.format.value,
            language="de",
            duration_minutes=spec.duration,
            default_capacity=spec.capacity,
            trainer=spec.trainer,
            validity_months=spec.validity,
        )
        upcoming, past = spec.sessions
        catalogue.upcoming[spec.code] = [
            _session(rng, course, spec, _day(rng, today, spec.code, i, upcoming, planned))
            for i in range(upcoming)
        ]
        catalogue.past[spec.code] = [
            _session(rng, course, spec, _day(rng, today, spec.code, i, past, planned, past=True))
            for i in range(past)
        ]
    db_session.add_all(catalogue.courses.values())
    db_session.flush()
    return catalogue


def _session(rng: random.Random, course: Course, spec: data.CourseSpec, day: date) -> CourseSession:
    starts_at = datetime.combine(day, spec.starts, tzinfo=BERLIN)
    online = spec.format in (CourseFormat.ONLINE, CourseFormat.BLENDED)
    return CourseSession(
        course=course,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=spec.duration),
        location=rng.choice(spec.places),
        online_url=(
            f"https://konferenz.{data.DOMAIN}/{spec.code.lower()}-{day.isoformat()}"
            if online
            else ""
        ),
        capacity=max(12, min(20, spec.capacity + rng.choice((-2, 0, 0, 2)))),
        min_participants=4 if spec.capacity <= 14 else 6,
        trainer=spec.trainer,
        enrolment_deadline=starts_at - timedelta(days=7),
        cancellation_deadline=starts_at - timedelta(days=3),
        notes=rng.choice(data.SESSION_NOTES),
    )


def _day(
    rng: random.Random,
    today: date,
    code: str,
    index: int,
    count: int,
    planned: set[tuple[str, date]],
    *,
    past: bool = False,
) -> date:
    """The ``index``-th of ``count`` session days spread evenly over the window; noted in
    ``planned``."""
    # Monday to Thursday, not in the Christmas break, at most one session of a course a day.
    first, last = (10, PAST_DAYS) if past else (3, UPCOMING_DAYS)
    offset = first + int((index + rng.random()) * (last - first) / count)
    day = today + timedelta(days=-offset if past else offset)
    day += timedelta(days=rng.randint(0, 3) - day.weekday())
    step = -1 if past else 1
    if not past and day < today + timedelta(days=first):
        day += timedelta(days=7)
    while day.weekday() > 3 or _in_christmas_break(day) or (code, day) in planned:
        day += timedelta(days=step)
    planned.add((code, day))
    return day


def _in_christmas_break(day: date) -> bool:
    return (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 2)

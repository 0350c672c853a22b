"""Reading the access log: who viewed or downloaded which people's training status.

Pages are cut by id (keyset), newest first. A filter by person (personnel number) keeps the
events that showed that person; the page lists how many people each event showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, exists, func, select

from app.core.audit import AccessEvent, AccessEventEmployee
from app.core.types import DbSession
from app.privacy.services import audit_log
from app.privacy.services.audit_log import start_of_day
from app.staff.models import Employee


@dataclass(frozen=True)
class AccessFilter:
    """Empty fields filter nothing; dates are Berlin calendar days."""

    viewer: str = ""
    personnel_number: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AccessRow:
    event: AccessEvent
    #: How many people the event showed.
    people: int


@dataclass(frozen=True)
class AccessPage:
    rows: list[AccessRow]
    next_before: int | None


def access_page(
    db_session: DbSession, access_filter: AccessFilter, *, before: int | None, size: int = 0
) -> AccessPage:
    """The newest ``size`` events (default ``PAGE_SIZE``) matching the filter with an id below
    ``before``."""
    size = size or audit_log.PAGE_SIZE
    query = _filtered(access_filter).order_by(AccessEvent.id.desc()).limit(size + 1)
    if before is not None:
        query = query.where(AccessEvent.id < before)
    events = list(db_session.scalars(query))
    next_before = events[size - 1].id if len(events) > size else None
    events = events[:size]
    counts: dict[int, int] = {
        event_id: people
        for event_id, people in db_session.execute(  # one query for the page, not one per event
            select(AccessEventEmployee.event_id, func.count())
            .where(AccessEventEmployee.event_id.in_([e.id for e in events]))
            .group_by(AccessEventEmployee.event_id)
        )
    }
    return AccessPage([AccessRow(e, counts.get(e.id, 0)) for e in events], next_before)


def _filtered(access_filter: AccessFilter) -> Select[AccessEvent]:
    query = select(AccessEvent)
    if access_filter.viewer:
        query = query.where(func.lower(AccessEvent.viewer).contains(access_filter.viewer.lower()))
    if access_filter.personnel_number:
        query = query.where(
            exists().where(
                AccessEventEmployee.event_id == AccessEvent.id,
                AccessEventEmployee.employee_id == Employee.id,
                Employee.personnel_number == access_filter.personnel_number,
            )
        )
    if access_filter.date_from is not None:
        query = query.where(AccessEvent.at >= start_of_day(access_filter.date_from))
    if access_filter.date_to is not None:
        query = query.where(
            AccessEvent.at < start_of_day(access_filter.date_to + timedelta(days=1))
        )
    return query

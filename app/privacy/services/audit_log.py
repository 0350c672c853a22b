"""Reading the audit log: filtered pages newest first, a CSV of the filtered entries, and the
staff council's summary (counts only, no names).

The log grows forever, so pages are cut by id (keyset: "entries older than id N"), never by
OFFSET, and the CSV is read in batches as it is sent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from app.core.audit import AuditEntry
from app.core.spreadsheet import safe_cell
from app.core.sql import berlin_month
from app.core.types import BERLIN, DbSession

PAGE_SIZE = 50
#: Rows read from the database at a time while the CSV is streamed.
CSV_BATCH = 1000
CSV_COLUMNS = ("id", "at", "actor", "channel", "action", "entity", "entity_id", "before", "after")


@dataclass(frozen=True)
class AuditFilter:
    """What the page asks for; empty fields filter nothing. Dates are Berlin calendar days."""

    date_from: date | None = None
    date_to: date | None = None
    actor: str = ""
    entity: str = ""
    action: str = ""
    entity_id: str = ""


@dataclass(frozen=True)
class Page:
    entries: list[AuditEntry]
    #: The id to continue below (the next, older page), None on the last page.
    next_before: int | None


@dataclass(frozen=True)
class SummaryRow:
    month: str
    entity: str
    action: str
    count: int


def audit_page(
    db_session: DbSession, audit_filter: AuditFilter, *, before: int | None, size: int = 0
) -> Page:
    """The newest ``size`` entries (default ``PAGE_SIZE``) matching the filter with an id below
    ``before``."""
    size = size or PAGE_SIZE
    query = filtered(audit_filter).order_by(AuditEntry.id.desc()).limit(size + 1)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    entries = list(db_session.scalars(query))
    if len(entries) > size:
        return Page(entries[:size], entries[size - 1].id)
    return Page(entries, None)


def audit_csv(db_session: DbSession, audit_filter: AuditFilter) -> Iterator[str]:
    """The filtered entries as CSV lines, newest first, read batch by batch (by id, so a
    growing log neither repeats nor skips a row)."""
    yield "\ufeff"  # UTF-8 with BOM: spreadsheets then read umlauts right
    yield _csv_line(CSV_COLUMNS)
    before: int | None = None
    while True:
        query = filtered(audit_filter).order_by(AuditEntry.id.desc()).limit(CSV_BATCH)
        if before is not None:
            query = query.where(AuditEntry.id < before)
        batch = list(db_session.scalars(query))
        for entry in batch:
            yield _csv_line(_csv_values(entry))
        if len(batch) < CSV_BATCH:
            return
        before = batch[-1].id
        db_session.expunge_all()  # nothing of the sent batches stays in memory


def filtered(audit_filter: AuditFilter) -> Select[AuditEntry]:
    query = select(AuditEntry)
    if audit_filter.date_from is not None:
        query = query.where(AuditEntry.at >= start_of_day(audit_filter.date_from))
    if audit_filter.date_to is not None:
        query = query.where(AuditEntry.at < start_of_day(audit_filter.date_to + timedelta(days=1)))
    if audit_filter.actor:
        query = query.where(func.lower(AuditEntry.actor).contains(audit_filter.actor.lower()))
    if audit_filter.entity:
        query = query.where(AuditEntry.entity == audit_filter.entity)
    if audit_filter.action:
        query = query.where(AuditEntry.action == audit_filter.action)
    if audit_filter.entity_id:
        query = query.where(AuditEntry.entity_id == audit_filter.entity_id)
    return query


def known_values(db_session: DbSession) -> tuple[list[str], list[str]]:
    """The entity types and actions in the log, for the filter's choices."""
    entities = db_session.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity))
    actions = db_session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    return list(entities), list(actions)


def summary(db_session: DbSession, *, months: int = 24, today: date) -> list[SummaryRow]:
    """Changes per month × entity type × action over the last ``months`` months (Berlin time),
    newest month first: counts only, no entity ids and no actors."""
    first_month = date(today.year, today.month, 1)
    for _ in range(months - 1):
        first_month = (first_month - timedelta(days=1)).replace(day=1)
    month = berlin_month(AuditEntry.at).label("month")
    rows = db_session.execute(
        select(month, AuditEntry.entity, AuditEntry.action, func.count())
        .where(AuditEntry.at >= start_of_day(first_month))
        .group_by(month, AuditEntry.entity, AuditEntry.action)
        .order_by(month.desc(), AuditEntry.entity, AuditEntry.action)
    )
    return [SummaryRow(m, entity, action, count) for m, entity, action, count in rows]


def start_of_day(day: date) -> datetime:
    """Midnight in Berlin at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=BERLIN)


def _csv_values(entry: AuditEntry) -> tuple[Any, ...]:
    return (
        entry.id,
        entry.at.isoformat(),
        entry.actor,
        entry.channel,
        entry.action,
        entry.entity,
        entry.entity_id or "",
        _json(entry.before),
        _json(entry.after),
    )


def _json(values: dict[str, Any] | None) -> str:
    return "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)


def _csv_line(values: tuple[Any, ...]) -> str:
    """One line as the app's other CSV files are written: ``;``-separated, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(value) if isinstance(value, str) else value for value in values])
    return buffer.getvalue()

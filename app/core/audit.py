"""Who changed what, and who looked at whose personal data.

Two records the staff council and the data-protection officer rely on:

- the **audit log** (``audit_log``): one row per change that matters, with who, when, what, and
  the values before and after. It is append-only: the app never updates or deletes a row, and
  database triggers refuse both (see migration 0019).
- the **access log** (``access_events`` and ``access_event_employees``): who viewed or downloaded
  which people's training status. It is kept for a configured time and then deleted by the
  retention task.

Both sit in ``core`` because every area records into them. Who acts comes from
``current_actor()``: the logged-in user in a request, or whatever a CLI command or task declared
with ``acting_as``; nothing here reads the request itself beyond that.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, scoped_session

from app.core.types import DbSession, UTCDateTime, utcnow
from app.extensions import Model


class Channel(enum.StrEnum):
    """How an actor reached the app."""

    WEB = "web"
    CLI = "cli"
    TASK = "task"
    API = "api"


@dataclass(frozen=True)
class Actor:
    """Who is acting. ``user_id`` is None for the system (a nightly task, a CLI run)."""

    user_id: int | None
    name: str
    channel: Channel


SYSTEM = Actor(user_id=None, name="system", channel=Channel.TASK)

_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Declare who acts for what runs inside (a CLI command, a task, an API client)."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def current_actor() -> Actor:
    """The declared actor, else the logged-in user of this request, else the system."""
    declared = _actor.get()
    if declared is not None:
        return declared
    if has_request_context() and current_user.is_authenticated:
        return Actor(user_id=current_user.id, name=current_user.email, channel=Channel.WEB)
    return SYSTEM


class AuditEntry(Model):
    """One change that matters. Append-only: never updated or deleted (triggers refuse it).

    ``actor_user_id`` is a plain number, not a foreign key, so that removing a login changes
    no row here; ``actor`` keeps the login name as it was."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(10))
    #: What happened: ``create``, ``update``, ``delete`` or a named event (``import``, ``export``).
    action: Mapped[str] = mapped_column(String(40))
    #: What it happened to: ``course``, ``session``, ``enrolment``, ``user`` …
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AccessEvent(Model):
    """Someone viewed or downloaded named people's training status (a page, a list, an export)."""

    __tablename__ = "access_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    viewer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    viewer: Mapped[str] = mapped_column(String(254))
    #: Which view: ``person``, ``drilldown``, ``people_list``, ``export``, ``data_export`` …
    purpose: Mapped[str] = mapped_column(String(40))
    #: A short description a person can read: the page's title or the file's name.
    detail: Mapped[str] = mapped_column(String(200), default="")


class AccessEventEmployee(Model):
    """One person whose data an access event showed."""

    __tablename__ = "access_event_employees"

    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("access_events.id", ondelete="CASCADE"),
        primary_key=True,
    )
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def jsonable(value: object) -> object:
    """A value as the audit log stores it in JSON (dates as ISO text, enums by value)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(item) for item in value]
    return str(value)


def _json_dict(values: Mapping[str, object] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {str(key): jsonable(item) for key, item in values.items()}


def record_change(
    db_session: DbSession,
    *,
    action: str,
    entity: str,
    entity_id: object = None,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """Add an audit entry to the session; it commits (or rolls back) with the change it records."""
    who = actor or current_actor()
    entry = AuditEntry(
        at=utcnow(),
        actor_user_id=who.user_id,
        actor=who.name[:254],
        channel=who.channel.value,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=_json_dict(before),
        after=_json_dict(after),
    )
    db_session.add(entry)
    return entry


def commit_access_log(db_session: DbSession) -> None:
    """Commit what ``record_access`` added, before the page is sent, keeping what the page has
    loaded: an expiring commit would make the page read every listed row's objects again, one
    statement each, and leave a streamed body (which runs after the request's session has
    ended) unable to read them at all."""
    session = db_session() if isinstance(db_session, scoped_session) else db_session
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def record_access(
    db_session: DbSession,
    *,
    purpose: str,
    employee_ids: Iterable[int] | Select[Any],
    detail: str = "",
    actor: Actor | None = None,
) -> AccessEvent | None:
    """Record that ``actor`` (default: the current one) saw these people's data.

    ``employee_ids`` is either ids at hand or a SELECT of one column of employee ids (a whole
    subtree for an export), which is copied in one ``INSERT … SELECT``. Nothing is recorded
    when no person was shown."""
    who = actor or current_actor()
    if isinstance(employee_ids, Select):
        chosen = employee_ids.subquery()
        ids_query: Select[Any] | None = select(next(iter(chosen.c))).distinct()
        ids: list[int] = []
    else:
        ids_query, ids = None, sorted(set(employee_ids))
        if not ids:
            return None
    event = AccessEvent(
        at=utcnow(),
        viewer_user_id=who.user_id,
        viewer=who.name[:254],
        purpose=purpose,
        detail=detail[:200],
    )
    db_session.add(event)
    db_session.flush()
    if ids_query is None:
        db_session.execute(
            insert(AccessEventEmployee), [{"event_id": event.id, "employee_id": id_} for id_ in ids]
        )
    else:
        column = ids_query.selected_columns[0]
        db_session.execute(
            insert(AccessEventEmployee).from_select(
                ["event_id", "employee_id"], ids_query.with_only_columns(literal(event.id), column)
            )
        )
    return event

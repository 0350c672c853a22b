"""Column types shared by all areas."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TypeAlias
from zoneinfo import ZoneInfo

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import DateTime
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.types import TypeDecorator

#: What services take as their database session: a Session, or Flask-SQLAlchemy's scoped
#: proxy of one (``db.session``), which offers the same methods.
DbSession: TypeAlias = Session | scoped_session[FlaskSession]

#: The city's time zone: sessions are planned and shown in it.
BERLIN = ZoneInfo("Europe/Berlin")


class UTCDateTime(TypeDecorator):
    """A point in time, stored as UTC on every backend and returned timezone-aware.

    SQLite has no time zones, so naive values would be ambiguous around the DST switch;
    storing UTC and converting to Europe/Berlin only for display avoids that.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def sql_values(values: type[enum.StrEnum]) -> str:
    """An enum's values as an SQL list for a CHECK constraint: ``'a', 'b'``."""
    return ", ".join(f"'{v.value}'" for v in values)

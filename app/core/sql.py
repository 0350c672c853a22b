"""SQL helpers for every area: date arithmetic that compiles to each backend's own SQL (SQLite
and PostgreSQL), plain rows of a SELECT, and the row count of a conditional UPDATE."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVarTuple

from sqlalchemy import CursorResult, Date, Integer, Result, Select, String, Update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.core.types import BERLIN, DbSession

Columns = TypeVarTuple("Columns")


def months_after(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day
    (31.08.2025 + 18 months = 28.02.2027), as PostgreSQL's ``date + interval`` does."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def sqlite_add_months(day: str | None, months: int | None) -> str | None:
    """``add_months`` for SQLite (registered on every connection): SQLite's own
    ``date(d, '+N months')`` rolls over at a month's end instead of clamping."""
    if day is None or months is None:
        return None
    return months_after(date.fromisoformat(day[:10]), int(months)).isoformat()


class add_months(FunctionElement):  # noqa: N801 - reads like SQL
    """``date + n months``, clamped to the month's end on both backends."""

    type = Date()
    inherit_cache = True


class add_days(FunctionElement):  # noqa: N801
    """``date + n days`` (n may be negative)."""

    type = Date()
    inherit_cache = True


class greatest(FunctionElement):  # noqa: N801
    """The later of two dates; NULL if either is NULL (wrap in COALESCE where needed)."""

    type = Date()
    inherit_cache = True


def _args(element, compiler, **kw) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(add_months)
def _add_months_postgresql(element, compiler, **kw) -> str:
    day, months = _args(element, compiler, **kw)
    return f"CAST(CAST({day} AS DATE) + make_interval(months => {months}) AS DATE)"


@compiles(add_months, "sqlite")
def _add_months_sqlite(element, compiler, **kw) -> str:
    day, months = _args(element, compiler, **kw)
    return f"add_months({day}, {months})"


@compiles(add_days)
def _add_days_postgresql(element, compiler, **kw) -> str:
    day, days = _args(element, compiler, **kw)
    return f"CAST(CAST({day} AS DATE) + CAST({days} AS INTEGER) AS DATE)"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element, compiler, **kw) -> str:
    day, days = _args(element, compiler, **kw)
    return f"date({day}, printf('%+d days', {days}))"


@compiles(greatest)
def _greatest_postgresql(element, compiler, **kw) -> str:
    first, second = _args(element, compiler, **kw)
    return (
        f"CASE WHEN {first} IS NULL OR {second} IS NULL THEN NULL "
        f"ELSE GREATEST({first}, {second}) END"
    )


@compiles(greatest, "sqlite")
def _greatest_sqlite(element, compiler, **kw) -> str:
    first, second = _args(element, compiler, **kw)
    return f"max({first}, {second})"


class year_of(FunctionElement):  # noqa: N801
    """The calendar year of a date, as an integer."""

    type = Integer()
    inherit_cache = True


class make_date(FunctionElement):  # noqa: N801
    """``make_date(year, month, day)``."""

    type = Date()
    inherit_cache = True


@compiles(year_of)
def _year_of_postgresql(element, compiler, **kw) -> str:
    (day,) = _args(element, compiler, **kw)
    return f"CAST(EXTRACT(YEAR FROM {day}) AS INTEGER)"


@compiles(year_of, "sqlite")
def _year_of_sqlite(element, compiler, **kw) -> str:
    (day,) = _args(element, compiler, **kw)
    return f"CAST(strftime('%Y', {day}) AS INTEGER)"


@compiles(make_date)
def _make_date_postgresql(element, compiler, **kw) -> str:
    year, month, day = _args(element, compiler, **kw)
    return f"make_date({year}, {month}, {day})"


@compiles(make_date, "sqlite")
def _make_date_sqlite(element, compiler, **kw) -> str:
    year, month, day = _args(element, compiler, **kw)
    return f"date(printf('%04d-%02d-%02d', {year}, {month}, {day}))"


class least(FunctionElement):  # noqa: N801
    """The earlier of two dates (both must be non-NULL)."""

    type = Date()
    inherit_cache = True


@compiles(least)
def _least_postgresql(element, compiler, **kw) -> str:
    first, second = _args(element, compiler, **kw)
    return f"LEAST({first}, {second})"


@compiles(least, "sqlite")
def _least_sqlite(element, compiler, **kw) -> str:
    first, second = _args(element, compiler, **kw)
    return f"min({first}, {second})"


class berlin_month(FunctionElement):  # noqa: N801
    """The month (``2027-03``) of a point in time, in Berlin (registered as a Python function on
    SQLite, which has no time zones)."""

    type = String()
    inherit_cache = True


@compiles(berlin_month)
def _berlin_month_postgresql(element, compiler, **kw) -> str:
    (moment,) = _args(element, compiler, **kw)
    return f"to_char({moment} AT TIME ZONE 'Europe/Berlin', 'YYYY-MM')"


@compiles(berlin_month, "sqlite")
def _berlin_month_sqlite(element, compiler, **kw) -> str:
    (moment,) = _args(element, compiler, **kw)
    return f"berlin_month({moment})"


def sqlite_berlin_month(moment: str | None) -> str | None:
    """``berlin_month`` for SQLite, where a UTC point in time is stored as naive text."""
    if moment is None:
        return None
    return datetime.fromisoformat(moment).replace(tzinfo=UTC).astimezone(BERLIN).strftime("%Y-%m")


def plain_rows(
    db_session: DbSession, statement: Select[*Columns], parameters: Mapping[str, Any]
) -> Result[*Columns]:
    """Run a SELECT of columns (no ORM objects wanted) on the session's connection, in its
    transaction, after the session's autoflush as ``Session.execute`` would. It skips the ORM's
    steps around each statement: half the CPU of a small query (0.075 of 0.15 ms, measured),
    on the pages every employee opens."""
    if db_session.autoflush:
        db_session.flush()
    return db_session.connection().execute(statement, parameters)


def rows_updated(db_session: DbSession, statement: Update) -> int:
    """Run an UPDATE; how many rows it changed (0 when its condition no longer held)."""
    result = db_session.execute(statement)
    assert isinstance(result, CursorResult)  # always, for an UPDATE; typed as any Result
    return result.rowcount

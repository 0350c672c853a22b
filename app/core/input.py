"""Input the database cannot hold is refused at the edge, with a 4xx or a form error, never a
500: integers beyond a 32-bit column (in routes, query strings and forms), dates outside the
years the product deals with, and NUL characters (PostgreSQL refuses them in text)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter
from wtforms import ValidationError

#: The range of the ``integer`` columns (ids, counts) on PostgreSQL; SQLite holds more.
DB_INT_MIN, DB_INT_MAX = -(2**31), 2**31 - 1
#: Dates a form accepts: far enough for birthdays and long validities, short of the calendar's
#: end, where adding a validity or a time zone offset overflows.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def db_int(value: str) -> int:
    """``int(value)`` within the database's integer range; ValueError otherwise.

    For ``request.args.get(name, type=db_int)``: an out-of-range value counts as absent."""
    number = int(value)
    if not DB_INT_MIN <= number <= DB_INT_MAX:
        raise ValueError(value)
    return number


def valid_month(value: str | None) -> str | None:
    """``value`` if it is a month ``YYYY-MM`` within the accepted years, else None."""
    if not value or len(value) != 7 or value[4] != "-":
        return None
    year, month = value[:4], value[5:]
    if year.isdigit() and month.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR:
        return value if 1 <= int(month) <= 12 else None
    return None


View = TypeVar("View", bound=Callable[..., Any])


def accepts_nul_characters(view: View) -> View:
    """Exempt a view from the 400 for NUL characters: it answers them itself (the login form
    says which login names and passwords it cannot take)."""
    view.accepts_nul_characters = True  # type: ignore[attr-defined]
    return view


class DbIntConverter(IntegerConverter):
    """``<int:…>`` in routes: ids beyond the database's range match nothing (404)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (Werkzeug's name)
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def register_input_checks(app: Flask) -> None:
    """Bounded ``<int:…>`` route converters, and a 400 for NUL characters anywhere in a request."""
    app.url_map.converters["int"] = DbIntConverter

    @app.before_request
    def _refuse_nul_characters() -> None:
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "accepts_nul_characters", False):
            return
        if "\x00" in request.path or _has_nul(request.args) or _has_nul(request.form):
            abort(400)


def _has_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def within_database_range(_form, field) -> None:
    """A WTForms validator for every field (see core.forms.Form): integers, dates and times
    the database and the date arithmetic can hold."""
    for value in field.data if isinstance(field.data, list | tuple) else [field.data]:
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value > DB_INT_MAX:
            raise ValidationError(_("Please enter a smaller number."))
        if isinstance(value, int) and value < DB_INT_MIN:
            raise ValidationError(_("Please enter a larger number."))
        if isinstance(value, date | datetime) and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValidationError(
                _(
                    "Please enter a date between the years %(first)d and %(last)d.",
                    first=FIRST_YEAR,
                    last=LAST_YEAR,
                )
            )

"""Rows given as data (a batch of the API's JSON) instead of a file.

They are checked by the same planners as an uploaded file, with the field names as headers,
and written by the same ``applying.apply_plan``: the same rules, the same problems. A
problem's line is the row's position in the batch (1 for the first); its column is the field.

Before that, ``shape_problems`` checks what only data can get wrong and a file cannot: fields
the kind does not have, values that are not text, text a database cannot store, and dates
not written as JSON writes them (``YYYY-MM-DD``, within the years the product deals with).
These are the only checks of a batch's items besides the planners': the API's schema of an
item describes them for the OpenAPI document and checks nothing itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date

from app.core.input import FIRST_YEAR, LAST_YEAR
from app.core.types import DbSession
from app.imports.columns import columns_of
from app.imports.models import ImportKind
from app.imports.planning import Plan, Problem, build_plan
from app.imports.planning.plan import PROBLEMS_KEPT
from app.imports.reading import Table

#: A row as given: field name → value (None or absent: empty).
Record = Mapping[str, object]
#: The years a date may lie in (as a form takes them), for the message.
YEARS = {"first": FIRST_YEAR, "last": LAST_YEAR}


def shape_problems(kind: str, records: Sequence[Record]) -> tuple[list[Problem], int]:
    """What is wrong with the records as data, before any rule (the first ``PROBLEMS_KEPT``
    problems, and how many there are): unknown fields, values that are neither text nor null,
    text with a NUL character or a lone surrogate, dates not of the form ``YYYY-MM-DD``."""
    columns = {column.name: column for column in columns_of(kind)}
    problems: list[Problem] = []
    count = 0
    for line, record in enumerate(records, start=1):
        for name, value in record.items():
            column = columns.get(name)
            if column is None:
                found = Problem("unknown_field", line, name[:100], {"value": name[:40]})
            elif value is None:
                continue
            elif type(value) is not str:
                found = Problem("not_text", line, name)
            elif not _storable(value):
                found = Problem("not_storable", line, name)
            elif column.date and iso_day(value) is None:
                found = Problem("bad_iso_date", line, name, {"value": value[:40], **YEARS})
            else:
                continue
            count += 1
            if len(problems) < PROBLEMS_KEPT:
                problems.append(found)
    return problems, count


def check_records(
    db_session: DbSession, *, kind: str, records: Sequence[Record], today: date
) -> Plan:
    """Check ``records`` (free of ``shape_problems``) as rows of a ``kind`` import and work out
    their changes.

    A field given for any row of the batch is compared for all of them (an absent or null one
    then clears the value); a field given for none keeps what the database has, as a file
    without that column would. Only the people the rows name are read from the database."""
    present = [
        column.name
        for column in columns_of(kind)
        if column.required or any(column.name in record for record in records)
    ]
    table = Table(
        headers=present,
        rows=_rows(records, present),
        format="json",
        estimated_rows=len(records),
    )
    keys = None
    if kind != ImportKind.DEPARTMENTS:
        keys = [str(r["personnel_number"]) for r in records if r.get("personnel_number")]
    return build_plan(
        db_session,
        kind=kind,
        table=table,
        mapping={},
        full_export=False,
        today=today,
        keys=keys,
    )


def iso_day(value: str) -> date | None:
    """``YYYY-MM-DD`` as a date within the years the product deals with, else None."""
    if len(value) != 10 or value[4] != "-" or value[7] != "-" or not value.isascii():
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _storable(value: str) -> bool:
    """Text a database can store: no NUL character, no lone surrogate (JSON's ``\\ud800``)."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _rows(records: Sequence[Record], fields: list[str]) -> Iterator[tuple[int, list[str]]]:
    for line, record in enumerate(records, start=1):
        yield line, [_cell(record.get(name)) for name in fields]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)

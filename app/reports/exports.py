"""Exports of a coverage scope: CSV as German Excel opens it, streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _

from app.reports.services import PersonStatus


def status_label(status: str) -> str:
    return {
        "compliant": _("compliant"),
        "due_soon": _("due soon"),
        "overdue": _("overdue"),
        "pending": _("not yet due"),
        "exempt": _("exempt"),
    }[status]


def display_date(value: date | None) -> str:
    if value is None:
        return ""
    if value.year == 9999:
        return _("unlimited")
    return value.strftime("%d.%m.%Y")


def safe_cell(value: str) -> str:
    """Text a spreadsheet would run as a formula (``=HYPERLINK(…)``) is written as text."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def people_csv(rows: Iterable[PersonStatus], *, scope_name: str, today: date) -> Iterator[str]:
    """``;``-separated, UTF-8 with BOM, CRLF; the scope and date on top; chunks of text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    yield "\ufeff"
    writer.writerow([_("Coverage report"), safe_cell(scope_name), _("as of"), format_date(today)])
    writer.writerow([])
    writer.writerow(
        [
            _("Personnel number"),
            _("Last name"),
            _("First name"),
            _("Department"),
            _("Requirement"),
            _("Status"),
            _("Due date"),
            _("Valid until"),
        ]
    )
    yield flush()
    for n, person in enumerate(rows, start=1):
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    person.employee.personnel_number,
                    person.employee.last_name,
                    person.employee.first_name,
                    person.employee.department.name,
                    person.requirement.name,
                    status_label(person.status),
                    display_date(person.due_date),
                    display_date(person.valid_until),
                )
            ]
        )
        if n % 500 == 0:
            yield flush()
    yield flush()

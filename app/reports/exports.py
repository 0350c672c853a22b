"""Exports of a coverage scope: CSV as German Excel opens it, streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _

from app.reports.services import PersonStatus


def status_labels() -> dict[str, str]:
    """Each status in the current language (look them up once per export, not per row)."""
    return {
        "compliant": _("compliant"),
        "due_soon": _("due soon"),
        "overdue": _("overdue"),
        "pending": _("not yet due"),
        "exempt": _("exempt"),
    }


def status_label(status: str) -> str:
    return status_labels()[status]


def display_date(value: date | None, unlimited: str | None = None) -> str:
    if value is None:
        return ""
    if value.year == 9999:
        return unlimited or _("unlimited")
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

    labels, unlimited = status_labels(), _("unlimited")
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
                    labels[person.status],
                    display_date(person.due_date, unlimited),
                    display_date(person.valid_until, unlimited),
                )
            ]
        )
        if n % 500 == 0:
            yield flush()
    yield flush()


def people_xlsx(
    rows: Iterable[PersonStatus], coverage_rows: Iterable, *, scope_name: str, today: date
) -> bytes:
    """An Excel workbook: coverage per department and requirement, then everyone's status.

    Written in openpyxl's write-only mode, so memory stays flat however many rows there are.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    labels = status_labels()

    def heading(sheet, values):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    summary = workbook.create_sheet(_("Coverage"))
    summary.append([_("Coverage report"), safe_cell(scope_name), _("as of"), today])
    summary.append([])
    heading(
        summary,
        [
            _("Requirement"),
            _("Department"),
            _("In scope"),
            _("compliant"),
            _("due soon"),
            _("overdue"),
            _("not yet due"),
            _("exempt"),
            _("Coverage") + " %",
        ],
    )
    for row in coverage_rows:
        summary.append(
            [
                safe_cell(row.requirement.name),
                safe_cell(row.department.name) if row.department else _("Total"),
                row.in_scope,
                row.compliant,
                row.due_soon,
                row.overdue,
                row.pending,
                row.exempt,
                row.coverage_percent,
            ]
        )
    people_sheet = workbook.create_sheet(_("People"))
    heading(
        people_sheet,
        [
            _("Personnel number"),
            _("Last name"),
            _("First name"),
            _("Department"),
            _("Requirement"),
            _("Status"),
            _("Due date"),
            _("Valid until"),
        ],
    )
    for person in rows:
        people_sheet.append(
            [
                safe_cell(person.employee.personnel_number),
                safe_cell(person.employee.last_name),
                safe_cell(person.employee.first_name),
                safe_cell(person.employee.department.name),
                safe_cell(person.requirement.name),
                labels[person.status],
                None
                if person.due_date is None or person.due_date.year == 9999
                else person.due_date,
                None
                if person.valid_until is None or person.valid_until.year == 9999
                else person.valid_until,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

"""Exports of a coverage scope: CSV as German Excel opens it (streamed), XLSX, and a PDF."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from babel import Locale
from flask_babel import format_date, format_decimal, get_locale, ngettext
from flask_babel import gettext as _

from app.core.spreadsheet import safe_cell
from app.reports.council import AreaRow, ProtectedCoverage
from app.reports.services import CoverageRow
from app.requirements.status import PersonStatus, never_expires
from app.staff.models import Department

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

#: How a people export writes a date: as text (CSV) or as a date cell (XLSX).
DateCell = TypeVar("DateCell")


#: Each status's word, translated into the current language when called.
_STATUS_LABEL: dict[str, Callable[[], str]] = {
    "compliant": lambda: _("compliant"),
    "due_soon": lambda: _("due soon"),
    "overdue": lambda: _("overdue"),
    "pending": lambda: _("not yet due"),
    "exempt": lambda: _("exempt"),
}


def status_labels() -> dict[str, str]:
    """Each status in the current language (look them up once per export, not per row)."""
    return {status: label() for status, label in _STATUS_LABEL.items()}


def coverage_note(due_soon_days: int) -> str:
    """What coverage counts and what "of which on time" adds: said on the page and in files."""
    return _(
        "Coverage counts everyone holding a valid completion, also when it is due soon "
        "(within %(days)s days). Of which on time: the share whose valid completion is not "
        "due soon.",
        days=due_soon_days,
    )


def status_label(status: str) -> str:
    """One status in the current language (pages call it once per row: the five words are
    translated once per language)."""
    return _status_labels_in(get_locale())[status]


@lru_cache(maxsize=16)
def _status_labels_in(_locale: Locale | None) -> dict[str, str]:
    return status_labels()  # in the current language, the one named


def display_date(value: date | None, unlimited: str | None = None) -> str:
    if value is None:
        return ""
    if never_expires(value):
        return unlimited or _("unlimited")
    return value.strftime("%d.%m.%Y")


def scope_label(department: Department | None, roots: Sequence[Department] | None) -> str:
    """What a report covers, for its title: a department, a head's areas, or the city."""
    if department is not None:
        return department.name
    if roots:
        return ", ".join(root.name for root in roots)
    return _("whole city")


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
    writer.writerow(people_header())
    yield flush()

    def text_date(value: date | None) -> str:
        return display_date(value, unlimited)

    for n, person in enumerate(rows, start=1):
        writer.writerow(person_row(person, labels, text_date))
        if n % 500 == 0:
            yield flush()
    yield flush()


def people_xlsx(
    rows: Iterable[PersonStatus],
    coverage_rows: Iterable[CoverageRow],
    *,
    scope_name: str,
    today: date,
    due_soon_days: int,
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

    def heading(sheet: WriteOnlyWorksheet, values: Iterable[str]) -> None:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    summary = workbook.create_sheet(_("Coverage"))
    summary.append([_("Coverage report"), safe_cell(scope_name), _("as of"), today])
    summary.append([coverage_note(due_soon_days)])
    heading(summary, coverage_header())
    for row in coverage_rows:
        area = safe_cell(row.department.name) if row.department else _("Total")
        summary.append(coverage_cells(row, area))
    people_sheet = workbook.create_sheet(_("People"))
    heading(people_sheet, people_header())
    for person in rows:
        people_sheet.append(person_row(person, labels, spreadsheet_date))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def coverage_header() -> list[str]:
    """The columns of a coverage table in a file (the XLSX's first sheet, the council's CSV)."""
    return [
        _("Requirement"),
        _("Department"),
        _("In scope"),
        _("compliant"),
        _("due soon"),
        _("overdue"),
        _("not yet due"),
        _("exempt"),
        _("Coverage") + " %",
        _("of which on time") + " %",
    ]


def coverage_cells(row: CoverageRow, area: str) -> list[str | int | float | None]:
    """One row under ``coverage_header``; ``area`` names the department (or the total)."""
    return [
        safe_cell(row.requirement.name),
        area,
        row.in_scope,
        row.compliant,
        row.due_soon,
        row.overdue,
        row.pending,
        row.exempt,
        row.coverage_percent,
        row.on_time_percent,
    ]


def small_groups_note(min_group_size: int) -> str:
    """How figures without names protect small groups: said on the page and in the file."""
    return ngettext(
        "No figure describes fewer than %(num)d person: a department with fewer people is "
        "counted with the one above it. No person is named.",
        "No figure describes fewer than %(num)d people: a department with fewer people is "
        "counted with the one above it. No person is named.",
        min_group_size,
    )


def council_csv(
    figures: Iterable[ProtectedCoverage], *, today: date, min_group_size: int
) -> Iterator[str]:
    """The staff council's figures as German Excel opens them (``;``, UTF-8 with BOM): per
    requirement the city, the departments shown and the smaller areas together."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    yield "\ufeff"
    writer.writerow([_("Coverage figures"), _("as of"), format_date(today)])
    writer.writerow([small_groups_note(min_group_size)])
    writer.writerow([])
    writer.writerow([*coverage_header(), _("Includes smaller units below")])

    def percent(value: float | None) -> str:
        return "" if value is None else format_decimal(value)

    for shown in figures:
        for area in shown.area_rows():
            row = area.row
            cells = coverage_cells(row, safe_cell(area_label(area, note_merged=False)))[:-2]
            merged = _("yes") if area.kind in ("merged", "others") else ""
            percents = [percent(row.coverage_percent), percent(row.on_time_percent)]
            writer.writerow([*cells, *percents, merged])
    yield buffer.getvalue()


def area_label(area: AreaRow, *, note_merged: bool = True) -> str:
    """The name of a row of the council's figures (a file says "merged" in a column)."""
    if area.kind == "city":
        return _("Whole city")
    if area.kind == "others" or area.row.department is None:
        return _("Smaller areas together")
    if area.kind == "merged" and note_merged:
        return _("%(name)s (with smaller units below)", name=area.row.department.name)
    return area.row.department.name


def people_header() -> list[str]:
    """The columns of a people export (the CSV, the XLSX's people sheet)."""
    return [
        _("Personnel number"),
        _("Last name"),
        _("First name"),
        _("Department"),
        _("Requirement"),
        _("Status"),
        _("Due date"),
        _("Valid until"),
    ]


def person_row(
    person: PersonStatus,
    labels: Mapping[str, str],
    date_cell: Callable[[date | None], DateCell],
) -> list[str | DateCell]:
    """One person's row of a people export, under ``people_header``; names as typed in HR's
    data are written as text even where a spreadsheet would run them as formulas."""
    employee = person.employee
    return [
        safe_cell(employee.personnel_number),
        safe_cell(employee.last_name),
        safe_cell(employee.first_name),
        safe_cell(employee.department.name),
        safe_cell(person.requirement.name),
        labels[person.status],
        date_cell(person.due_date),
        date_cell(person.valid_until),
    ]


def spreadsheet_date(value: date | None) -> date | None:
    """A date for a spreadsheet cell: empty when there is none or it never comes."""
    return None if value is None or never_expires(value) else value


#: People listed by name in a PDF; it is a report to forward, not a data dump (use CSV/XLSX).
PDF_PEOPLE_LIMIT = 500


def coverage_pdf(
    coverage_rows: Iterable[CoverageRow],
    people_rows: Iterable[PersonStatus],
    *,
    scope_name: str,
    city_name: str,
    today: date,
    due_soon_days: int,
) -> bytes:
    """A report a head can forward: coverage per department and requirement, then the people
    overdue or due soon. DejaVu Sans carries every name (Çelik, Kovačević, Yılmaz)."""
    from fpdf.fonts import FontFace

    from app.core.pdf import new_document

    pdf = new_document(
        title=f"{_('Coverage report')} {scope_name}",
        author=city_name,
        lang=str(get_locale()),
        orientation="landscape",
    )
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 10, f"{_('Coverage report')}: {scope_name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(
        0, 6, f"{city_name} · {_('as of')} {format_date(today)}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.multi_cell(0, 5, coverage_note(due_soon_days), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    heading = FontFace(emphasis="BOLD", fill_color=(230, 236, 244))
    labels = status_labels()
    by_requirement: dict[str, list[CoverageRow]] = {}
    for row in coverage_rows:
        by_requirement.setdefault(row.requirement.name, []).append(row)
    for name, rows in by_requirement.items():
        pdf.set_font("DejaVu", "B", 12)
        pdf.cell(0, 8, name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        with pdf.table(
            col_widths=(58, 35, 20, 22, 22, 28, 20, 33, 39),
            text_align=("LEFT", *("RIGHT",) * 8),
            headings_style=heading,
        ) as table:
            table.row(
                [
                    _("Department"),
                    _("In scope"),
                    labels["compliant"],
                    labels["due_soon"],
                    labels["overdue"],
                    labels["pending"],
                    labels["exempt"],
                    _("Coverage"),
                    _("of which on time"),
                ]
            )
            for row in rows:
                table.row(
                    [
                        row.department.name if row.department else _("Total"),
                        str(row.in_scope),
                        str(row.compliant),
                        str(row.due_soon),
                        str(row.overdue),
                        str(row.pending),
                        str(row.exempt),
                        _pdf_percent(row.coverage_percent),
                        _pdf_percent(row.on_time_percent),
                    ]
                )
        pdf.ln(4)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, _("Overdue or due soon"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    shown = more = 0
    unlimited = _("unlimited")
    with pdf.table(
        col_widths=(60, 60, 97, 30, 30), text_align="LEFT", headings_style=heading
    ) as table:
        table.row([_("Name"), _("Department"), _("Requirement"), _("Status"), _("Due date")])
        for person in people_rows:
            if shown >= PDF_PEOPLE_LIMIT:
                more += 1
                continue
            shown += 1
            table.row(
                [
                    f"{person.employee.last_name}, {person.employee.first_name}",
                    person.employee.department.name,
                    person.requirement.name,
                    labels[person.status],
                    display_date(person.due_date, unlimited),
                ]
            )
    if more:
        pdf.ln(2)
        pdf.cell(0, 6, ngettext("… and %(num)d more.", "… and %(num)d more.", more))
    return bytes(pdf.output())


def _pdf_percent(percent: float | None) -> str:
    return "–" if percent is None else f"{format_decimal(percent)} %"

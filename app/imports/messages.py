"""What each problem an import can find says to the user, in their language.

Problems are stored as a code with parameters (see ``planning.Problem``) and put into words
only when shown, so a report reads in the language of whoever looks at it.
"""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

MESSAGES = {
    # The file as a whole
    "empty_file": _l("The file is empty."),
    "binary_file": _l("This is not a table: please upload a CSV or XLSX file."),
    "old_excel": _l(
        "This is an old Excel file (.xls). Please save it as “Excel workbook (.xlsx)” or as CSV."
    ),
    "bad_encoding": _l(
        "The file's characters cannot be read (byte %(position)s). Please save it as CSV UTF-8."
    ),
    "bad_csv": _l("Line %(line)s cannot be read as CSV: %(detail)s"),
    "bad_xlsx": _l("The Excel file is damaged or not an XLSX workbook."),
    "too_many_rows": _l("The file has more than %(limit)s rows; please split it."),
    "too_many_columns": _l("The file has more than %(limit)s columns; is it the right file?"),
    "too_large": _l("The file is larger than %(limit)s MB; please split it."),
    "no_rows": _l("The file has a header row but no data rows."),
    "missing_column": _l("The required column “%(column)s” is missing."),
    "duplicate_column": _l("The column “%(column)s” appears twice."),
    # One cell or row
    "required": _l("This value is required."),
    "too_long": _l("Longer than %(limit)s characters."),
    "formula": _l("The cell holds a formula (“%(value)s”); only plain values can be imported."),
    "bad_date": _l("“%(value)s” is not a date; please write it as DD.MM.YYYY."),
    "exit_before_entry": _l("The exit date is before the entry date."),
    "bad_email": _l("“%(value)s” is not a valid e-mail address."),
    "unknown_department": _l("There is no department with the code “%(value)s”."),
    "duplicate_personnel_number": _l(
        "The personnel number %(value)s already appears in line %(first_line)s."
    ),
    "duplicate_code": _l("The code %(value)s already appears in line %(first_line)s."),
    "unknown_parent": _l("There is no department with the code “%(value)s”, here or in the file."),
    "own_parent": _l("A department cannot be its own parent."),
    "cycle": _l("The parent departments would form a loop (%(value)s)."),
    "unknown_employee": _l("There is no employee with the personnel number “%(value)s”."),
    "unknown_course": _l("There is no course with the code or title “%(value)s”."),
    "future_date": _l("%(value)s lies in the future."),
    "duplicate_completion": _l("The same completion already appears in line %(first_line)s."),
    # A row given as data (a batch of the API): what a file cannot get wrong
    "unknown_field": _l("There is no field “%(value)s”."),
    "not_text": _l("The value must be text (a JSON string) or null."),
    "not_storable": _l("The text holds a NUL character or an unpaired surrogate."),
    "bad_iso_date": _l(
        "“%(value)s” is not a date of the form YYYY-MM-DD between the years %(first)s and %(last)s."
    ),
    # Warnings: imported, but worth knowing
    "head_unknown": _l(
        "The head %(value)s is not on staff yet; import the staff, then this file again."
    ),
    "head_without_login": _l(
        "The head %(value)s has no login; create one under Users to give them the report."
    ),
    "no_entry_date_new": _l(
        "No entry date: counts as on staff since the first import that brought them "
        "(for this person: the day this file is imported). Deadlines counted from entry start "
        "then."
    ),
    "no_entry_date": _l(
        "No entry date: counts as on staff since the first import that brought them "
        "(for this person: %(date)s). Deadlines counted from entry start then."
    ),
}

#: Parameters stored as ISO dates and shown as dates of the reader's language.
DATE_PARAMS = ("date",)


def describe(code: str, params: dict | None = None) -> str:
    """The problem ``code`` in words, in the current language."""
    message = MESSAGES.get(code)
    if message is None:
        return code
    if not params:
        return str(message)
    shown = {
        name: format_date(date.fromisoformat(value), "medium")
        if name in DATE_PARAMS and isinstance(value, str)
        else value
        for name, value in params.items()
    }
    return str(message) % shown

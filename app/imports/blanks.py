"""Empty files to fill in: the header row of each kind, in German, as CSV or XLSX."""

from __future__ import annotations

import io

from flask_babel import gettext as _

from app.imports.columns import columns_of


def blank_csv(kind: str) -> bytes:
    """A header row as Excel on German Windows opens it: UTF-8 with BOM, semicolons, CRLF."""
    return ("\ufeff" + ";".join(col.german for col in columns_of(kind)) + "\r\n").encode()


def blank_xlsx(kind: str) -> bytes:
    """A workbook with the header row, and a second sheet that explains each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook's one (and active) sheet
    sheet.title = _("Data")
    sheet.append([col.german for col in columns_of(kind)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index in range(1, len(columns_of(kind)) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 24
    notes = workbook.create_sheet(_("Columns"))
    notes.append([_("Column"), _("Meaning"), _("Required"), _("Also accepted")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for col in columns_of(kind):
        notes.append(
            [
                col.german,
                str(col.label),
                _("yes") if col.required else _("no"),
                ", ".join(a for a in col.aliases if a != col.german),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

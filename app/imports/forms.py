"""Input shapes of the import pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from app.core.forms import Form
from app.imports.columns import KIND_LABELS, columns_of


class UploadForm(Form):
    kind = SelectField(
        _l("What the file contains"),
        choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        default="staff",
    )
    file = FileField(
        _l("File (CSV or XLSX)"),
        validators=[FileRequired(_l("Please choose a file."))],
        description=_l(
            "CSV with semicolons or commas (UTF-8 or Windows-1252) or an Excel workbook (.xlsx). "
            "Nothing is changed before you have seen the preview."
        ),
    )
    full_export = BooleanField(
        _l("Staff file: this is the complete staff list (whoever is missing has left)"),
        default=True,
    )


def mapping_form(kind: str, headers: list[str], current: dict[str, str]) -> Form:
    """One choice per unknown header: which field it holds, or "ignore"."""
    choices = [SelectChoice("", _l("— ignore this column —"))] + [
        SelectChoice(col.name, col.label) for col in columns_of(kind)
    ]

    class MappingForm(Form):
        pass

    for index, header in enumerate(headers):
        setattr(
            MappingForm,
            f"column_{index}",
            SelectField(header, choices=choices, default=current.get(header, "")),
        )
    form = MappingForm()
    form.headers = headers
    return form


class ConfirmImportForm(Form):
    """ "Import now", and for staff whether to invite the new people."""

    invite_new = BooleanField(
        _l("Invite the new people with an e-mail address to set their own password")
    )

"""Input shapes of the privacy pages: the filters of the audit log and the access log."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, ValidationError
from wtforms.validators import Length, Optional

#: Dates outside these years cannot be turned into points in time on every backend.
EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)


def _plain_text(_form, field) -> None:
    if field.data and any(ord(character) < 32 for character in field.data):
        raise ValidationError(_l("Please enter plain text."))


def _sane_date(_form, field) -> None:
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Please enter a date between 1900 and 9998."))


class _PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    date_from = DateField(_l("From"), validators=[Optional(), _sane_date])
    date_to = DateField(_l("To"), validators=[Optional(), _sane_date])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end must not be before the start."))


class AuditFilterForm(_PeriodForm):
    actor = StringField(_l("Who"), validators=[Optional(), Length(max=254), _plain_text])
    entity = SelectField(
        _l("What"), validators=[Optional(), Length(max=40), _plain_text], validate_choice=False
    )
    action = SelectField(
        _l("Action"), validators=[Optional(), Length(max=40), _plain_text], validate_choice=False
    )
    entity_id = StringField(_l("Id"), validators=[Optional(), Length(max=64), _plain_text])


class AccessFilterForm(_PeriodForm):
    viewer = StringField(_l("Viewed by"), validators=[Optional(), Length(max=254), _plain_text])
    personnel_number = StringField(
        _l("Personnel number"), validators=[Optional(), Length(max=32), _plain_text]
    )

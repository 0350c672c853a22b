"""Input shapes of the requirement pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.forms import Form, MultiCheckboxField


class RequirementForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    courses = MultiCheckboxField(_l("Courses that fulfil it (any one counts)"), coerce=int)
    everyone = BooleanField(_l("All staff"))
    include_departments = StringField(
        _l("Departments (codes, comma-separated; each with everything below it)"),
        validators=[Optional(), Length(max=2000)],
    )
    include_positions = StringField(
        _l("Positions (comma-separated)"), validators=[Optional(), Length(max=2000)]
    )
    exclude_departments = StringField(
        _l("Except departments (codes)"), validators=[Optional(), Length(max=2000)]
    )
    exclude_positions = StringField(
        _l("Except positions"), validators=[Optional(), Length(max=2000)]
    )
    first_due_date = DateField(_l("First due date"), validators=[Optional()])
    grace_days = IntegerField(
        _l("New staff: due this many days after their entry date"),
        validators=[Optional(), NumberRange(min=0, max=3650)],
    )
    renewal_months = IntegerField(
        _l("Renew every … months"),
        validators=[Optional(), NumberRange(min=1, max=600)],
        description=_l("Empty: once is enough, unless the course's completion expires."),
    )
    renewal_window_days = IntegerField(
        _l("Renewal window in days"),
        validators=[Optional(), NumberRange(min=0, max=365)],
        description=_l(
            "Who renews this many days before the period ends keeps the full next period."
        ),
    )
    cycle_day = IntegerField(
        _l("Or: due every year on day"), validators=[Optional(), NumberRange(min=1, max=28)]
    )
    cycle_month = IntegerField(
        _l("… of month"), validators=[Optional(), NumberRange(min=1, max=12)]
    )
    active = BooleanField(_l("Active"), default=True)


class ExemptionForm(Form):
    personnel_number = StringField(
        _l("Personnel number"), validators=[DataRequired(), Length(max=32)]
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)])
    starts_on = DateField(_l("From"), validators=[DataRequired()])
    ends_on = DateField(_l("Until (empty: until further notice)"), validators=[Optional()])

"""Input shapes of the courses pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from app.core.forms import Form
from app.courses.models import CourseFormat

FORMAT_LABELS = {
    CourseFormat.IN_PERSON.value: _l("in person"),
    CourseFormat.ONLINE.value: _l("online"),
    CourseFormat.BLENDED.value: _l("blended"),
    CourseFormat.ELEARNING.value: _l("e-learning"),
}
LANGUAGE_LABELS = {"de": _l("German"), "en": _l("English")}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class CourseForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    learning_goals = TextAreaField(_l("Learning goals"), validators=[Optional(), Length(max=5000)])
    format = SelectField(_l("Format"), choices=_choices(FORMAT_LABELS))
    language = SelectField(_l("Language"), choices=_choices(LANGUAGE_LABELS))
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        default=180,
        validators=[DataRequired(), NumberRange(min=1, max=10000)],
    )
    default_capacity = IntegerField(
        _l("Default capacity"),
        default=16,
        validators=[DataRequired(), NumberRange(min=1, max=10000)],
    )
    trainer = StringField(_l("Trainer(s)"), validators=[Optional(), Length(max=200)])
    validity_months = IntegerField(
        _l("Validity in months"),
        validators=[Optional(), NumberRange(min=1, max=600)],
        description=_l("How long a completion counts. Leave empty if it never expires."),
    )


class SessionForm(Form):
    starts_at = DateTimeLocalField(_l("Start"), format=DATETIME_FORMAT, validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("End"), format=DATETIME_FORMAT, validators=[DataRequired()])
    location = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    online_url = URLField(
        _l("Online link"), validators=[Optional(), URL(require_tld=False), Length(max=500)]
    )
    capacity = IntegerField(
        _l("Capacity"), validators=[DataRequired(), NumberRange(min=1, max=10000)]
    )
    min_participants = IntegerField(
        _l("Minimum participants"), default=0, validators=[Optional(), NumberRange(min=0)]
    )
    trainer = StringField(_l("Trainer"), validators=[Optional(), Length(max=200)])
    enrolment_deadline = DateTimeLocalField(
        _l("Enrolment deadline"),
        format=DATETIME_FORMAT,
        validators=[Optional()],
        description=_l("Empty: enrolment is possible until the start."),
    )
    cancellation_deadline = DateTimeLocalField(
        _l("Cancellation deadline"),
        format=DATETIME_FORMAT,
        validators=[Optional()],
        description=_l("Empty: cancelling is possible until the start."),
    )
    notes = TextAreaField(_l("Notes for participants"), validators=[Optional(), Length(max=5000)])


class SessionFilterForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    course = SelectField(_l("Course"), validators=[Optional()], validate_choice=False)
    month = StringField(_l("Month"), validators=[Optional(), Length(max=7)])
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("any")), *_choices(LANGUAGE_LABELS)],
        validators=[Optional()],
    )
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice("", _l("any")), *_choices(FORMAT_LABELS)],
        validators=[Optional()],
    )


class ActionForm(Form):
    """A button that changes something (enrol, cancel): only the CSRF token, plus HR's override."""

    override_deadline = BooleanField(_l("Override the deadline (recorded)"))


class CancelSessionForm(Form):
    reason = StringField(_l("Reason (told to the participants)"), validators=[Length(max=500)])


class MoveForm(Form):
    target = SelectField(_l("Move to date"), coerce=int, validate_choice=False)


class CandidateFilterForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    department = SelectField(_l("Department (with everything below it)"), validate_choice=False)
    untrained_only = BooleanField(_l("Only people not yet trained"), default=True)
    q = SearchField(_l("Name, personnel number or department (optional)"))


class BookOneForm(Form):
    personnel_number = StringField(
        _l("Personnel number"), validators=[DataRequired(), Length(max=32)]
    )
    override_deadline = BooleanField(_l("Override the deadline (recorded)"))

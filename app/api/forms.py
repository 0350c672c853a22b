"""Input shapes of the administrators' API client page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from app.api.models import Scope
from app.core.forms import MultiCheckboxField

SCOPE_LABELS = {
    Scope.STAFF_WRITE: _l("Write departments and staff (staff:write)"),
    Scope.COMPLETIONS_WRITE: _l("Record completions (completions:write)"),
    Scope.COMPLETIONS_READ: _l("Read completions (completions:read)"),
    Scope.COVERAGE_READ: _l("Read coverage and people's statuses (coverage:read)"),
    Scope.ENROLMENTS_READ: _l("Read bookings and attendance (enrolments:read)"),
}


class ApiClientForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(),
            Length(max=100),
            Regexp(
                r"^[^\x00-\x1f\x7f]*\Z",
                message=_l("The name contains characters that are not allowed."),
            ),
        ],
        description=_l("The system that calls, e.g. “SAP HCM nightly sync”."),
    )
    scopes = MultiCheckboxField(
        _l("Scopes"),
        choices=[SelectChoice(scope.value, label) for scope, label in SCOPE_LABELS.items()],
        validators=[DataRequired(message=_l("Choose at least one scope."))],
    )

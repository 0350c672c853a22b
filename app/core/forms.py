"""Form pieces every area shares, and the helper that shows a service's complaints on the form
they are about."""

from __future__ import annotations

from collections.abc import Mapping

from flask import flash
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.input import within_database_range


class Form(FlaskForm):
    """The base of every form: each field also refuses numbers and dates the database cannot
    hold (a form error, not a 500; core.input)."""

    def validate(self, extra_validators=None) -> bool:
        extra = {name: [within_database_range] for name in self._fields}
        for name, validators in (extra_validators or {}).items():
            extra[name] = [*extra.get(name, []), *validators]
        return super().validate(extra_validators=extra)


class ActionOnlyForm(Form):
    """A button that changes something (confirm, discard, retry): only the CSRF token."""


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def attach_errors(form, errors: Mapping[str, object]) -> None:
    """Put each message next to its field (``errors`` maps a field name to a message); one
    about no field of the form goes to the top of the page."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, str(message)]
        else:
            flash(str(message), "error")

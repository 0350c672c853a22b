"""Input shapes of the shared pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

LANGUAGE_CHOICES = [("de", "Deutsch"), ("en", "English")]


class LanguageForm(FlaskForm):
    locale = SelectField(choices=LANGUAGE_CHOICES, validators=[DataRequired()])
    next = HiddenField()

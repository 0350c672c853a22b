"""Input shapes of the shared pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired

#: The UI languages, each named in its own language.
LANGUAGES = {"de": "Deutsch", "en": "English"}


class LanguageForm(FlaskForm):
    locale = HiddenField(validators=[DataRequired(), AnyOf(list(LANGUAGES))])
    next = HiddenField()

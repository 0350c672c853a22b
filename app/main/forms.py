"""Input shapes of the shared pages."""

from __future__ import annotations

from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired

from app.core.forms import Form

#: The UI languages, each named in its own language.
LANGUAGES = {"de": "Deutsch", "en": "English"}


class LanguageForm(Form):
    locale = HiddenField(validators=[DataRequired(), AnyOf(list(LANGUAGES))])
    next = HiddenField()

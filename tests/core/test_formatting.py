"""The remembered formats are exactly Flask-Babel's, per locale and time zone."""

from datetime import UTC, date, datetime

import flask_babel
import pytest
from flask import session

from app.core import formatting


@pytest.mark.parametrize("language", ["de", "en"])
def test_numbers_and_dates_read_as_flask_babel_writes_them(app, language):
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night the clocks go forward
    with app.test_request_context():
        session["locale"] = language  # as the language switch stores it
        flask_babel.refresh()
        for value in (85.3, 1234567, 0, 99.95):
            assert formatting.number(value) == flask_babel.format_number(value)
        for pattern in (None, "medium", "dd.MM.yyyy HH:mm", "EEE, dd.MM.yyyy HH:mm"):
            assert formatting.datetime_text(moment, pattern) == flask_babel.format_datetime(
                moment, pattern
            )
        assert formatting.date_text(date(2026, 12, 4), "medium") == flask_babel.format_date(
            date(2026, 12, 4), "medium"
        )
        # The same value in another locale is not taken from the remembered text.
        assert formatting.number(85.3) == ("85,3" if language == "de" else "85.3")


def test_templates_translate_in_the_selected_and_in_a_forced_language(app):
    """Templates look each language's catalogue up once; the words still follow the language
    of the request, and a message rendered for someone else in theirs (force_locale)."""
    template = app.jinja_env.from_string(
        "{{ _('My overview') }} / {{ ngettext('%(num)d seat free', '%(num)d seats free', 2) }}"
    )
    with app.test_request_context():
        session["locale"] = "de"
        flask_babel.refresh()
        assert template.render() == "Meine Übersicht / 2 Plätze frei"
        with flask_babel.force_locale("en"):
            assert template.render() == "My overview / 2 seats free"
        assert template.render() == "Meine Übersicht / 2 Plätze frei"
    with app.test_request_context():
        session["locale"] = "en"
        flask_babel.refresh()
        assert template.render() == "My overview / 2 seats free"


def test_links_built_from_one_lookup_read_as_url_for_writes_them(app):
    from flask import url_for

    with app.test_request_context():
        for params in (
            {"department": "50/1 Bürgeramt", "requirement": 3, "status": "due_soon"},
            {"department": None, "requirement": 7, "status": "overdue"},
            {"department": None},
        ):
            assert formatting.href(url_for("reports.people"), **params) == url_for(
                "reports.people", **params
            )

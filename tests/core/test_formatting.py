"""The remembered formats are exactly Flask-Babel's, per locale and time zone."""

from datetime import UTC, date, datetime

import flask_babel
import pytest
from flask import render_template_string, session
from jinja2 import ChoiceLoader, DictLoader

from app.core import formatting


@pytest.mark.parametrize("language", ["de", "en"])
def test_numbers_and_dates_read_as_flask_babel_writes_them(app, language):
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night the clocks go forward
    with app.test_request_context():
        session["locale"] = language  # as the language switch stores it
        flask_babel.refresh()
        for value in (85.3, 1234567, 0, 99.95):
            assert formatting.number(None, value) == flask_babel.format_number(value)
        for pattern in (None, "medium", "dd.MM.yyyy HH:mm", "EEE, dd.MM.yyyy HH:mm"):
            assert formatting.datetime_text(None, moment, pattern) == flask_babel.format_datetime(
                moment, pattern
            )
        assert formatting.date_text(None, date(2026, 12, 4), "medium") == flask_babel.format_date(
            date(2026, 12, 4), "medium"
        )
        # The same value in another locale is not taken from the remembered text.
        assert formatting.number(None, 85.3) == ("85,3" if language == "de" else "85.3")


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


def test_pages_take_their_language_once_per_render_and_escape_as_the_template_does(app):
    """Rendered by Flask, a template finds its language in its context (put there when it
    starts to render): the request's, or the one forced for someone else's message; words
    and dates follow it, in a page as in a macro imported without context, and a value put
    into a word is escaped in HTML only."""
    moment = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    macro = (
        "{% macro seats(n) %}"
        "{{ ngettext('%(num)d seat free', '%(num)d seats free', n) }}, {{ _('Enrol') }}"
        "{% endmacro %}"
    )
    page = (
        "{% from '_test_seats.html' import seats %}"
        "{{ _('Hello, %(name)s', name=who) }} | {{ seats(2) }} | "
        "{{ when | datetimeformat('EEEE HH:mm') }} | {{ 1234.5 | numberformat }}"
        "{% autoescape false %} | {{ _('Hello, %(name)s', name=who) }}{% endautoescape %}"
        " | {{ _('100%% sure') }}"
    )
    loader = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({"_test_seats.html": macro}), loader])
    try:
        with app.test_request_context():
            session["locale"] = "de"
            flask_babel.refresh()
            assert render_template_string(page, who="<O'Brien>", when=moment) == (
                "Hallo, &lt;O&#39;Brien&gt; | 2 Plätze frei, Anmelden | Freitag 09:00 | 1.234,5"
                " | Hallo, <O'Brien> | 100% sure"
            )
            with flask_babel.force_locale("en"):
                assert render_template_string(page, who="Ana", when=moment) == (
                    "Hello, Ana | 2 seats free, Enrol | Friday 09:00 | 1,234.5 | Hello, Ana"
                    " | 100% sure"
                )
            assert render_template_string(page, who="Ana", when=moment).startswith("Hallo")
    finally:
        app.jinja_env.loader = loader


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

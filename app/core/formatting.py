"""Template filters that format the same few values over and over, remembered per locale.

Babel formats a number or a date in 0.05 to 0.15 ms; a coverage page shows hundreds of
percentages (all among a thousand values, 0.0 to 100.0) and the catalogue hundreds of dates
(the same upcoming dates on every request). The text depends only on the value, the format, the
locale and the time zone, all part of the key, so remembering it per process never shows
stale data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from urllib.parse import urlencode

import flask_babel
from babel import Locale
from babel.support import NullTranslations, Translations
from flask import Flask
from flask_babel import get_locale, get_timezone
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup


@lru_cache(maxsize=8192)
def _number(value: float | int, _locale: str) -> str:
    return str(flask_babel.format_number(value))


@lru_cache(maxsize=8192)
def _datetime(value: datetime, format: str | None, _locale: str, _zone: str) -> str:
    return str(flask_babel.format_datetime(value, format))


@lru_cache(maxsize=8192)
def _date(value: date, format: str | None, _locale: str, _zone: str) -> str:
    return str(flask_babel.format_date(value, format))


#: Where a page rendered by Flask finds its language's catalogue, locale and time zone: put
#: into the template's context once per render (``_render_language``), so that the hundred
#: words and dates of a page do not each look the language up through Flask's context again.
RENDER_LANGUAGE = "_render_language"


@dataclass(frozen=True)
class RenderLanguage:
    translations: Translations | NullTranslations
    locale: str
    zone: str


def _language(context: Context | None) -> RenderLanguage:
    found = context.get(RENDER_LANGUAGE) if context is not None else None
    # A macro imported without context (or a template rendered outside ``render_template``)
    # has none: it looks the language up itself.
    return found if found is not None else _current_language()


def _current_language() -> RenderLanguage:
    return _language_of(get_locale(), get_timezone())


@lru_cache(maxsize=64)
def _language_of(locale: Locale, zone: tzinfo) -> RenderLanguage:
    # Called with the current locale: Flask-Babel's catalogue for it, which Flask-Babel keeps
    # for the life of the process as well.
    return RenderLanguage(flask_babel.get_translations(), str(locale), str(zone))


def _render_language() -> dict[str, RenderLanguage]:
    """Context processor: the language Flask-Babel selected for the request, or forced for a
    message to someone else, as it is when the template starts to render."""
    locale = get_locale()
    return {RENDER_LANGUAGE: _language_of(locale, get_timezone())} if locale is not None else {}


@pass_context
def number(context: Context | None, value: float | int) -> str:
    """As Flask-Babel's ``numberformat``."""
    return _number(value, _language(context).locale)


@pass_context
def datetime_text(context: Context | None, value: datetime, format: str | None = None) -> str:
    """As Flask-Babel's ``datetimeformat``."""
    language = _language(context)
    return _datetime(value, format, language.locale, language.zone)


@pass_context
def date_text(context: Context | None, value: date, format: str | None = None) -> str:
    """As Flask-Babel's ``dateformat``."""
    language = _language(context)
    return _date(value, format, language.locale, language.zone)


# Jinja's newstyle gettext, in one call instead of three (its ``_`` resolves ``gettext``, which
# calls the function it was given): the text always is a format string ("%%" reads "%"),
# escaped where the template escapes.


@pass_context
def _gettext(context: Context, message: str, /, **variables: object) -> str:
    text = _language(context).translations.ugettext(message)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (our catalogue; the values are escaped by %)
    return text % variables if variables or "%" in text else text


@pass_context
def _ngettext(
    context: Context, singular: str, plural: str, num: int, /, **variables: object
) -> str:
    variables.setdefault("num", num)
    text = _language(context).translations.ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 (as above)
    return text % variables


def gettext(message: str, **variables: object) -> str:
    """As Flask-Babel's ``gettext``, for Python code run once per row of a page (its lookups
    of the request's language took longer than the rest of such a row)."""
    text = _current_language().translations.ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """As Flask-Babel's ``ngettext`` (see ``gettext``)."""
    variables.setdefault("num", num)
    return _current_language().translations.ungettext(singular, plural, num) % variables


#: What Werkzeug leaves unquoted in a query string (the WHATWG's percent-encode set).
QUERY_SAFE = "!$'()*,/:;?@"


def href(base: str, **params: object) -> str:
    """``base`` (a ``url_for`` looked up once) with these query parameters, None left out, as
    ``url_for`` writes them: for pages with hundreds of links to the same view, where the
    routing's build was a seventh of the page's time."""
    query = urlencode(
        [(name, value) for name, value in params.items() if value is not None],
        safe=QUERY_SAFE,
    )
    return f"{base}?{query}" if query else base


def register_formatting(app: Flask) -> None:
    app.jinja_env.filters.update(
        numberformat=number, datetimeformat=datetime_text, dateformat=date_text
    )
    app.jinja_env.globals["href"] = href
    # Templates translate a hundred words per page: in the language Flask-Babel selected for
    # the request (or forced, for a message to someone else), looked up once per render, its
    # catalogue once per language.
    app.jinja_env.newstyle_gettext = True  # type: ignore[attr-defined]
    app.jinja_env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
    app.context_processor(_render_language)

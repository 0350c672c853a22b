"""Styled error pages in the user's language; a 500 page that leaks nothing."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from app.extensions import db

ERROR_STATUSES = (400, 403, 404, 405, 413, 429)


def register_error_handlers(app: Flask) -> None:
    """Every error gets the styled page, unless an area answers it in its own way: each
    callable in ``app.extensions["error_answers"]`` gets the status first and may return a
    response (the API answers problem documents under its prefix, also for 404 and 405, which
    no blueprint handler sees because they arise before a route is found)."""

    def _render(status: int):
        for answer in app.extensions.get("error_answers", ()):
            response = answer(status)
            if response is not None:
                return response
        return render_template("errors/error.html", status=status), status

    for status in ERROR_STATUSES:
        app.register_error_handler(status, lambda _error, status=status: _render(status))

    @app.errorhandler(CSRFError)
    def _csrf_error(_error: CSRFError):
        return render_template("errors/error.html", status=400, csrf_failed=True), 400

    @app.errorhandler(500)
    def _server_error(_error: Exception):
        db.session.rollback()
        return _render(500)

"""Styled error pages in the user's language; a 500 page that leaks nothing."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from app.extensions import db

ERROR_STATUSES = (400, 403, 404, 405, 413, 429)


def register_error_handlers(app: Flask) -> None:
    def _render(status: int):
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

"""HTTP security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if _may_hold_personal_data(response):
            # Neither the browser (a shared PC at the counter, its back button) nor a proxy
            # keeps a copy of a page or file with people's data.
            headers["Cache-Control"] = "no-store"
        return response


def _may_hold_personal_data(response: Response) -> bool:
    """Every download, and every response to a logged-in person except static files."""
    if "attachment" in response.headers.get("Content-Disposition", ""):
        return True
    if request.endpoint == "static":
        return False
    return bool(current_user and current_user.is_authenticated)

"""HTTP security headers on every response; the instance's own secret key."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path

from flask import Flask, Response, request, session

logger = logging.getLogger(__name__)

#: The file in the instance folder that holds the key made when none is configured.
KEY_FILE_NAME = "secret_key"

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
    # Flask-Login's mark of a logged-in session (also set by a login from the remember cookie);
    # read instead of current_user, whose row may be expired after the request's commit.
    return "_user_id" in session


def instance_secret_key(instance_path: Path) -> str:
    """The random secret key kept in ``instance_path``, made on first use (mode 0600).

    For one machine only: several web nodes need one configured ``SECRET_KEY``. Processes
    starting at once agree on one key: each writes its own temporary file and links it to
    the final name only if that is still free (atomic), then everyone reads what is there."""
    path = instance_path / KEY_FILE_NAME
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=instance_path, prefix=".secret_key-")
        try:
            with os.fdopen(descriptor, "w") as file:  # mkstemp makes it 0600
                file.write(secrets.token_hex(32) + "\n")
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process was first; its key counts
            else:
                logger.warning(
                    "No SECRET_KEY configured: made a random one in %s. It serves this machine "
                    "only; set SECRET_KEY (the same on every node) for several web nodes.",
                    path,
                )
        finally:
            os.unlink(temporary)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it or set SECRET_KEY")
    return key

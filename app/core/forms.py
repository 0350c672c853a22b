"""Help for views: show a service's complaints on the form they are about."""

from __future__ import annotations

from collections.abc import Mapping

from flask import flash


def attach_errors(form, errors: Mapping[str, object]) -> None:
    """Put each message next to its field (``errors`` maps a field name to a message); one
    about no field of the form goes to the top of the page."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, str(message)]
        else:
            flash(str(message), "error")

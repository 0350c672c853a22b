"""The roles a login may hold, and the gate that lets a view open only for some of them.

They sit in ``core`` because every area's views are gated by role, and the areas below
``auth`` (staff) must not import it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    HEAD = "head"
    HR = "hr"
    ADMIN = "admin"
    #: The staff council (Personalrat): coverage figures and audit summaries, never a name.
    STAFF_COUNCIL = "staff_council"
    #: The data-protection officer: the audit log and the access log.
    DATA_PROTECTION = "data_protection"


def roles_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Log in first; then answer 403 unless the user holds one of ``roles``."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator

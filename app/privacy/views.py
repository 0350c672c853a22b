"""Pages of the records: the audit log, its summary for the staff council, the access log."""

from __future__ import annotations

from app.privacy import bp  # noqa: F401

"""The city's calendar day: "today" is the date in Europe/Berlin, not the server's UTC date
(between midnight and 01:00/02:00 German time the two differ)."""

from __future__ import annotations

from datetime import date, datetime

from app.core.types import BERLIN


def local_today() -> date:
    """Today's date in Germany, for due dates, scopes and every rule that counts days."""
    return datetime.now(BERLIN).date()

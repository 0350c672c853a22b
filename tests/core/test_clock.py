"""Today is the calendar day in Europe/Berlin, not the server's UTC date."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

import pytest

from app.core import clock

APP = Path(clock.__file__).resolve().parent.parent


def _clock_at(monkeypatch: pytest.MonkeyPatch, utc_moment: datetime) -> None:
    """Make ``datetime.now`` inside app.core.clock return ``utc_moment`` (in the zone asked for)."""

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return utc_moment.astimezone(tz) if tz else utc_moment.replace(tzinfo=None)

    monkeypatch.setattr(clock, "datetime", FrozenDatetime)


@pytest.mark.parametrize(
    ("utc_moment", "berlin_day"),
    [
        # Winter (CET, UTC+1): 23:30 UTC on New Year's Eve is already 00:30 on 1 January.
        (datetime(2026, 12, 31, 22, 59, tzinfo=UTC), date(2026, 12, 31)),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 1, 1)),
        # Summer (CEST, UTC+2): the Berlin day starts at 22:00 UTC.
        (datetime(2026, 6, 30, 21, 59, tzinfo=UTC), date(2026, 6, 30)),
        (datetime(2026, 6, 30, 22, 0, tzinfo=UTC), date(2026, 7, 1)),
        # Midnight UTC is one or two hours into the same Berlin day.
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), date(2027, 1, 1)),
    ],
)
def test_local_today_is_the_berlin_date(
    monkeypatch: pytest.MonkeyPatch, utc_moment: datetime, berlin_day: date
) -> None:
    _clock_at(monkeypatch, utc_moment)

    assert clock.local_today() == berlin_day


def test_local_today_differs_from_the_utc_date_just_before_midnight_utc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    _clock_at(monkeypatch, moment)

    assert moment.date() == date(2026, 12, 31)
    assert clock.local_today() == date(2027, 1, 1)


def test_no_code_in_app_asks_the_server_for_its_date() -> None:
    """``date.today()`` is the server's (UTC) date; every rule must use ``local_today()``."""
    pattern = re.compile(r"\bdate\.today\(")
    offenders = [
        f"{path.relative_to(APP.parent)}:{number}"
        for path in sorted(APP.rglob("*.py"))
        if path != APP / "core" / "clock.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]

    assert offenders == [], "use app.core.clock.local_today() instead of date.today()"

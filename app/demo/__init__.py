"""The demo city: a Neu-Isenburg-like administration with staff, courses, sessions and history.

Everything is drawn from one ``random.Random(seed)`` and dated relative to ``today``, so the
same seed and the same day give the same city. The seeder only adds and flushes.

``builder`` runs the steps: ``people`` (departments, staff), ``catalogue`` (courses, dates),
``history`` (completions, attendance, bookings), ``logins`` (one per role), then the
requirements and a year of snapshots. Names, units and courses are in ``data``.
"""

from app.demo.builder import DemoSummary, seed_demo_city
from app.demo.logins import DEMO_LOGINS, DEMO_PASSWORD

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DemoSummary", "seed_demo_city"]

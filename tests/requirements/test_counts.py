"""Today's coverage counts per department: built once a day, read by HR's pages.

That the counts stay equal to the facts after every kind of change (and what reports read
equals counting every person) is checked by every test of ``test_facts``; here: building,
a new day, and that the pages read the counts.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from sqlalchemy import select, update

from app.core.clock import local_today
from app.core.roles import Role
from app.requirements import counts
from app.requirements.models import CoverageCount, CoverageCountDay
from app.requirements.tasks import build_coverage_counts
from app.staff.models import Department
from tests.requirements.test_facts import city  # noqa: F401 (fixture)
from tests.requirements.test_pages import city as town  # noqa: F401 (fixture)

DAY = date(2026, 11, 29)


def test_a_day_is_counted_once_and_a_new_day_replaces_it(db, city):  # noqa: F811
    # The fixture counted DAY; counting it again changes nothing.
    assert counts.counted_days(db.session) == [(DAY, 30)]
    assert counts.build(db.session, day=DAY, due_soon_days=30) is False
    assert counts.build(db.session, day=DAY + timedelta(days=1), due_soon_days=30) is True
    assert counts.counted_days(db.session) == [(DAY + timedelta(days=1), 30)]
    assert counts.differences(db.session)[0] == 0
    # Another due-soon window counts again.
    assert counts.build(db.session, day=DAY + timedelta(days=1), due_soon_days=14) is True
    assert counts.counted_days(db.session) == [(DAY + timedelta(days=1), 14)]


def test_the_task_counts_today_and_is_safe_to_run_twice(db, city, app, celery_worker):  # noqa: F811
    """On the worker (a real one on PostgreSQL + Redis), twice at once: one count of today."""
    db.session.commit()  # in-process, the task runs on its own connection
    build_coverage_counts.delay()
    build_coverage_counts.delay()
    today = (local_today(), app.config["DUE_SOON_DAYS"])
    deadline = time.monotonic() + 30
    while counts.counted_days(db.session) != [today] and time.monotonic() < deadline:
        db.session.rollback()
        time.sleep(0.1)
    assert counts.counted_days(db.session) == [today]
    built_at = db.session.scalar(select(CoverageCountDay.built_at))
    db.session.commit()
    build_coverage_counts.delay()
    assert counts.build(db.session, day=today[0], due_soon_days=today[1]) is False
    time.sleep(0.5)
    db.session.rollback()
    assert db.session.scalar(select(CoverageCountDay.built_at)) == built_at
    assert counts.differences(db.session)[0] == 0


def test_hr_city_page_reads_todays_counts(client, login, make, town, db):  # noqa: F811
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    assert "75 %" in client.get("/reports/coverage").get_data(as_text=True)  # 3 of 4, uncounted
    assert counts.build(db.session, day=local_today(), due_soon_days=30)
    assert "75 %" in client.get("/reports/coverage").get_data(as_text=True)  # the same, counted
    # The page reads the kept counts: a count changed behind its back shows.
    office = db.session.scalar(select(Department).where(Department.code == "D2-BA"))
    db.session.execute(
        update(CoverageCount)
        .where(CoverageCount.department_id == office.id)
        .values(covered=CoverageCount.covered - 1, compliant=CoverageCount.compliant - 1)
    )
    db.session.commit()
    page = client.get("/reports/coverage").get_data(as_text=True)
    assert "50 %" in page and "75 %" not in page
    found, examples = counts.differences(db.session)
    assert found == 1 and "D2-BA" not in examples[0] and f"department {office.id}" in examples[0]

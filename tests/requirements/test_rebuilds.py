"""Rebuilding the coverage facts in the background: the task is safe to run twice, two
workers never run the same rebuild, and a rebuild left by a dead worker is taken over."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.core.types import utcnow
from app.extensions import db as _db
from app.requirements import facts
from app.requirements.models import (
    AudienceKind,
    AudienceRule,
    CoverageFact,
    CoverageRebuild,
    Requirement,
)
from app.requirements.tasks import rebuild_coverage
from app.staff.models import Department, Employee
from tests.conftest import csrf_token
from tests.courses.concurrent import run_at_once
from tests.requirements.test_facts import assert_table_matches, city, status_of  # noqa: F401


@pytest.fixture
def large_city(city, app, monkeypatch):  # noqa: F811
    """The city, where a changed requirement is rebuilt by the task (not inline)."""
    monkeypatch.setitem(app.config, "COVERAGE_INLINE_MAX_STAFF", 0)
    return city


def change_audience(city) -> CoverageRebuild:  # noqa: F811
    """Narrow "Basis" to the Bürgeramt: Anna (Kita) is no longer in its audience."""
    return narrow_to_office(city["everyone"].id, city["office"].id)


def narrow_to_office(requirement_id: int, office_id: int) -> CoverageRebuild:
    requirement = _db.session.get(Requirement, requirement_id)
    requirement.audience = [
        AudienceRule(
            kind=AudienceKind.DEPARTMENT.value, department=_db.session.get(Department, office_id)
        )
    ]
    _db.session.commit()
    rebuild = _db.session.scalars(select(CoverageRebuild)).one()
    assert rebuild.state == "queued"
    return rebuild


def reload(rebuild_id: int) -> CoverageRebuild:
    _db.session.expire_all()
    found = _db.session.get(CoverageRebuild, rebuild_id)
    assert found is not None
    return found


def test_the_task_run_twice_rebuilds_once(large_city):
    rebuild_id = change_audience(large_city).id
    assert facts.differences(_db.session).total > 0
    _db.session.commit()

    assert rebuild_coverage() == 1
    assert rebuild_coverage() == 0  # nothing waits any more
    assert rebuild_coverage(rebuild_id) == 0  # nor is a done one run again

    done = reload(rebuild_id)
    assert done.state == "done" and done.employees_done == done.employees_total == 3
    assert done.heartbeat_at is not None and done.finished_at is not None
    assert status_of(large_city["anna"].id, large_city["everyone"].id) is None
    assert_table_matches()


def test_two_workers_at_the_same_moment_run_it_once(large_city, app):
    rebuild_id = change_audience(large_city).id
    ran: list[bool] = []

    def worker(db_session):
        ran.append(facts.run_rebuild(db_session, rebuild_id))

    assert run_at_once(app, [worker, worker, worker]) == []
    assert sorted(ran) == [False, False, True]
    assert reload(rebuild_id).state == "done"
    assert_table_matches()


def test_a_rebuild_whose_worker_died_is_taken_over(large_city):
    rebuild_id = change_audience(large_city).id
    stale = utcnow() - facts.rebuild_lease() - timedelta(seconds=5)
    _db.session.execute(
        update(CoverageRebuild)
        .where(CoverageRebuild.id == rebuild_id)
        .values(state="running", claimed_by="dead-worker", heartbeat_at=stale)
    )
    _db.session.commit()
    assert facts.pending_rebuild_ids(_db.session) == [rebuild_id]
    _db.session.commit()

    assert rebuild_coverage() == 1  # the periodic sweep
    taken = reload(rebuild_id)
    assert taken.state == "done" and taken.claimed_by != "dead-worker"
    assert_table_matches()


def test_a_running_rebuild_with_a_fresh_heartbeat_is_left_alone(large_city):
    rebuild_id = change_audience(large_city).id
    _db.session.execute(
        update(CoverageRebuild)
        .where(CoverageRebuild.id == rebuild_id)
        .values(state="running", claimed_by="busy-worker", heartbeat_at=utcnow())
    )
    _db.session.commit()

    assert rebuild_coverage() == 0
    assert rebuild_coverage(rebuild_id) == 0
    assert reload(rebuild_id).claimed_by == "busy-worker"


def test_a_worker_that_lost_its_rebuild_stops_writing(large_city, monkeypatch):
    """Its lease ran out mid-way (a long pause) and another worker took over: at its next
    heartbeat it stops, and neither progress nor the end is written by it."""
    monkeypatch.setattr(facts, "CHUNK", 1)  # one person per range: several heartbeats
    rebuild_id = change_audience(large_city).id
    _db.session.commit()
    seen: list[int] = []

    def taken_over_after_the_first_range(done: int, _total: int) -> None:
        seen.append(done)
        _db.session.execute(
            update(CoverageRebuild)
            .where(CoverageRebuild.id == rebuild_id)
            .values(claimed_by="other-worker", heartbeat_at=utcnow())
        )

    assert not facts.run_rebuild(
        _db.session, rebuild_id, on_progress=taken_over_after_the_first_range
    )
    assert seen == [1]
    left = reload(rebuild_id)
    assert (left.state, left.claimed_by, left.employees_done) == ("running", "other-worker", 1)


def test_saving_a_requirement_starts_the_rebuild(large_city, app, monkeypatch, celery_worker):
    monkeypatch.setitem(app.config, "COVERAGE_REBUILD_ON_COMMIT", True)

    ids = large_city["everyone"].id, large_city["office"].id
    _db.session.commit()
    with app.app_context():  # as a request does: the task starts at its teardown
        rebuild_id = narrow_to_office(*ids).id
        _db.session.remove()
    deadline = time.monotonic() + 30
    while reload(rebuild_id).state != "done" and time.monotonic() < deadline:
        _db.session.commit()
        time.sleep(0.1)
    assert reload(rebuild_id).state == "done"
    assert_table_matches()


def test_the_sweep_and_the_checks_are_scheduled(app):
    schedule = app.config["CELERY"]["beat_schedule"]
    tasks = {entry["task"]: entry for entry in schedule.values()}
    assert tasks["requirements.rebuild_coverage"]["schedule"] <= 60
    kinds = {
        entry.get("kwargs", {}).get("kind"): entry
        for entry in schedule.values()
        if entry["task"] == "requirements.check_coverage"
    }
    assert set(kinds) == {"sample", "full"}
    assert str(kinds["sample"]["schedule"].hour) == "{3}"
    assert kinds["full"]["schedule"].day_of_week == {0}


def test_hr_saving_the_form_starts_the_rebuild_after_the_request(
    large_city, app, client, login, hr, monkeypatch, celery_worker
):
    monkeypatch.setitem(app.config, "COVERAGE_REBUILD_ON_COMMIT", True)
    requirement_id, course_id = large_city["everyone"].id, large_city["course"].id
    login("hr@stadt.example")
    path = f"/requirements/{requirement_id}"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "name": "Basis",
            "courses": [str(course_id)],
            "include_departments": "FB-32",
            "first_due_date": "2026-03-01",
            "grace_days": "90",
            "renewal_months": "24",
            "renewal_window_days": "60",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    deadline = time.monotonic() + 30
    state = None
    while time.monotonic() < deadline:
        _db.session.expire_all()
        state = _db.session.scalar(select(CoverageRebuild.state))
        _db.session.commit()
        if state == "done":
            break
        time.sleep(0.1)
    assert state == "done"
    assert status_of(large_city["anna"].id, requirement_id) is None
    assert_table_matches()


def test_a_rebuild_rewrites_ranges_side_by_side_and_waits_only_for_a_held_range(
    city,  # noqa: F811
    app,
    db,
    monkeypatch,
):
    """Two workers: while another transaction holds the first person's range (a change of
    theirs not yet committed), the rebuild still rewrites every other range, and finishes
    once that transaction ends. One worker at a time would have waited at the first range."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("ranges side by side need PostgreSQL; SQLite has one writer at a time")
    monkeypatch.setattr(facts, "CHUNK", 1)  # one person per range
    people = sorted(db.session.scalars(select(Employee.id).where(Employee.active)))
    everyone = db.session.scalar(select(func.count(Employee.id)))
    db.session.execute(delete(CoverageFact))
    db.session.commit()
    holder = Session(bind=db.engine)
    facts._lock_people(holder, [people[0]])
    progress: list[int] = []
    errors: list[BaseException] = []

    def rebuild() -> None:
        with app.app_context():
            try:
                facts.rebuild_facts(
                    db.session, workers=2, on_progress=lambda done, _total: progress.append(done)
                )
            except BaseException as error:  # asserted on below
                errors.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=rebuild)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while (not progress or progress[-1] < everyone - 1) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert progress and progress[-1] == everyone - 1  # all but the held range
        assert thread.is_alive()  # still waiting for it
    finally:
        holder.rollback()
        holder.close()
        thread.join(30)
    assert errors == [] and not thread.is_alive()
    assert progress[-1] == everyone
    db.session.expire_all()
    assert_table_matches()

"""The nightly and weekly checks compare the kept facts with the live computation and
record what they find; a deliberately corrupted row is found."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select, text

from app.extensions import db as _db
from app.requirements import fact_checks, facts
from app.requirements.models import CoverageCheck, CoverageCount, CoverageCountDay
from app.requirements.tasks import check_coverage
from tests.requirements.test_facts import city  # noqa: F401


@pytest.fixture(autouse=True)
def facts_only(city):  # noqa: F811
    """These tests corrupt facts behind the app's back, which also sets the counts kept per
    department apart from them: without counts, each test sees only the facts' differences
    (test_counts_corrupted_behind_the_apps_back covers the counts)."""
    _db.session.execute(delete(CoverageCount))
    _db.session.execute(delete(CoverageCountDay))
    _db.session.commit()


def corrupt(employee_id: int) -> None:
    """Delete one of this person's rows by hand, behind the app's back."""
    _db.session.execute(
        text(
            "DELETE FROM coverage_facts WHERE employee_id = :e AND requirement_id ="
            " (SELECT MIN(requirement_id) FROM coverage_facts WHERE employee_id = :e)"
        ),
        {"e": employee_id},
    )
    _db.session.commit()


def checks(kind: str) -> list[CoverageCheck]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(CoverageCheck).where(CoverageCheck.kind == kind).order_by(CoverageCheck.id)
        )
    )


def test_a_full_check_of_a_kept_table_finds_nothing_and_is_recorded(city):  # noqa: F811
    _db.session.commit()
    assert check_coverage(kind="full") == 0
    (found,) = checks("full")
    assert found.people == 3 and found.differences == 0 and found.examples == []
    assert found.started_at is not None and found.finished_at is not None


def test_a_full_check_in_small_ranges_finds_a_deleted_and_an_altered_row(
    city,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(fact_checks, "CHUNK", 1)  # one person per range: it streams
    corrupt(city["anna"].id)
    _db.session.execute(
        text("UPDATE coverage_facts SET due_on = :d WHERE employee_id = :e"),
        {"d": date(2001, 1, 1), "e": city["ben"].id},
    )
    _db.session.commit()

    assert check_coverage(kind="full") == 3  # Anna: one missing; Ben: his row missing and extra
    (found,) = checks("full")
    assert (found.people, found.missing, found.extra) == (3, 2, 1)
    assert any(f"employee {city['anna'].id}" in line for line in found.examples)
    assert any("2001-01-01" in line for line in found.examples)
    _db.session.commit()

    facts.rebuild_facts(_db.session)  # a rebuild puts it right
    assert check_coverage(kind="full") == 0


def test_the_sample_check_compares_the_configured_number_of_people(city):  # noqa: F811
    check_id = fact_checks.request_check(_db.session, "sample").id
    _db.session.commit()
    found = fact_checks.run_check(_db.session, check_id, sample_size=2)
    assert found is not None and found.people == 2 and found.differences == 0

    corrupt(city["cem"].id)
    assert check_coverage() == 1  # beat's default: a sample (of up to 1,000: everyone here)
    assert checks("sample")[-1].examples[0].startswith("missing: employee")


def test_a_check_run_twice_runs_once(city):  # noqa: F811
    check_id = fact_checks.request_check(_db.session, "full").id
    _db.session.commit()
    assert check_coverage(check_id) == 0
    assert check_coverage(check_id) is None
    assert len(checks("full")) == 1

"""Coverage, report scopes, daily snapshots and the trend, called as the pages and tasks do."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.core.roles import Role
from app.reports.models import CoverageSnapshot
from app.reports.services import CoverageRow, TrendPoint, coverage, scope_for, take_snapshot, trend
from app.requirements.models import Exemption
from tests.reports.conftest import DUE_SOON_DAYS, TODAY


def table(rows: list[CoverageRow]) -> list[tuple[object, ...]]:
    """requirement, department (None: total), in scope, compliant, due soon, overdue, pending,
    exempt, covered, coverage %: one line per row, as the coverage page lists them."""
    return [
        (
            r.requirement.name,
            r.department.code if r.department else None,
            r.in_scope,
            r.compliant,
            r.due_soon,
            r.overdue,
            r.pending,
            r.exempt,
            r.covered,
            r.coverage_percent,
        )
        for r in rows
    ]


def city_coverage(db, departments, scope_roots=None, **options):
    return coverage(
        db.session,
        departments=departments,
        scope_roots=scope_roots,
        today=TODAY,
        due_soon_days=DUE_SOON_DAYS,
        **options,
    )


def test_each_department_counts_everyone_below_it_and_the_city_total_adds_the_top_ones(db, city):
    rows = city_coverage(db, [city.a, city.a1, city.school, city.a2, city.b])
    assert table(rows) == [
        ("Basis", None, 4, 1, 1, 2, 0, 1, 2, 50.0),
        ("Basis", "A", 3, 1, 1, 1, 0, 1, 2, 66.7),
        ("Basis", "A1", 2, 1, 0, 1, 0, 0, 1, 50.0),
        ("Basis", "A1-S", 1, 1, 0, 0, 0, 0, 1, 100.0),
        # due soon but still valid counts as covered; the exempt colleague is not in scope
        ("Basis", "A2", 1, 0, 1, 0, 0, 1, 1, 100.0),
        ("Basis", "B", 1, 0, 0, 1, 0, 0, 0, 0.0),
        ("Erste Hilfe", None, 1, 0, 0, 0, 1, 0, 0, 0.0),
        ("Erste Hilfe", "B", 1, 0, 0, 0, 1, 0, 0, 0.0),
    ]
    # PostgreSQL sums to NUMERIC; the page and the snapshots get whole numbers on both.
    assert all(type(n) is int for line in table(rows) for n in line[2:9])


def test_someone_due_soon_is_covered_but_not_on_time(db, city):
    """Coverage counts a valid completion that is due soon; "fristgerecht" does not. Exempt
    people are left out of both, as of the people in scope."""
    rows = city_coverage(db, [city.a, city.a1, city.a2, city.b])
    shares = [
        (
            r.requirement.name,
            r.department.code if r.department else None,
            r.in_scope,
            r.covered,
            r.on_time,
            r.coverage_percent,
            r.on_time_percent,
        )
        for r in rows
    ]
    assert shares == [
        ("Basis", None, 4, 2, 1, 50.0, 25.0),
        ("Basis", "A", 3, 2, 1, 66.7, 33.3),
        ("Basis", "A1", 2, 1, 1, 50.0, 50.0),
        # Herbst is due soon: covered, not on time; the exempt colleague counts in neither
        ("Basis", "A2", 1, 1, 0, 100.0, 0.0),
        ("Basis", "B", 1, 0, 0, 0.0, 0.0),
        ("Erste Hilfe", None, 1, 0, 0, 0.0, 0.0),
        ("Erste Hilfe", "B", 1, 0, 0, 0.0, 0.0),
    ]
    # the day after Herbst's completion runs out, they are overdue: neither covered nor on time
    herbst = next(r for r in rows if r.department is city.a2)
    assert herbst.due_soon == 1
    later = coverage(
        db.session,
        departments=[city.a2],
        scope_roots=None,
        today=date(2026, 6, 26),
        due_soon_days=DUE_SOON_DAYS,
    )
    assert [(r.covered, r.on_time, r.overdue) for r in later] == [(0, 0, 1)]


def test_everyone_exempt_leaves_the_on_time_share_unknown_too(db, city):
    row = CoverageRow(city.b, city.first_aid, 0, 0, 0, 0, 0, 1, 0)
    assert (row.on_time, row.on_time_percent, row.coverage_percent) == (0, None, None)


def test_rows_follow_the_order_of_the_departments_given(db, city):
    rows = city_coverage(db, [city.b, city.a2, city.a])
    assert [(r.requirement.name, r.department and r.department.code) for r in rows] == [
        ("Basis", None),
        ("Basis", "B"),
        ("Basis", "A2"),
        ("Basis", "A"),
        ("Erste Hilfe", None),
        ("Erste Hilfe", "B"),
    ]


def test_no_total_row_when_one_department_covers_the_scope(db, city):
    head_of_a = city_coverage(db, [city.a, city.a1, city.a2], scope_roots=[city.a])
    assert [r.department.code for r in head_of_a if r.department] == ["A", "A1", "A2"]
    assert all(r.department is not None for r in head_of_a)
    # A department below another shown one is not a top of its own.
    assert all(r.department for r in city_coverage(db, [city.a1, city.school]))


def test_total_of_two_sibling_departments_adds_them_up(db, city):
    rows = city_coverage(db, [city.a1, city.a2], scope_roots=[city.a1, city.a2])
    assert table(rows) == [
        ("Basis", None, 3, 1, 1, 1, 0, 1, 2, 66.7),
        ("Basis", "A1", 2, 1, 0, 1, 0, 0, 1, 50.0),
        ("Basis", "A2", 1, 0, 1, 0, 0, 1, 1, 100.0),
    ]
    without = city_coverage(
        db, [city.a1, city.a2], scope_roots=[city.a1, city.a2], with_total=False
    )
    assert [r.department for r in without if r.department is None] == []


def test_the_scope_limits_who_is_counted_in_a_department_above_it(db, city):
    rows = city_coverage(db, [city.a], scope_roots=[city.a1], with_total=False)
    assert table(rows) == [("Basis", "A", 2, 1, 0, 1, 0, 0, 1, 50.0)]


def test_coverage_is_unknown_when_everyone_is_exempt(db, city):
    db.session.add(
        Exemption(
            employee=city.regen,
            requirement=city.first_aid,
            reason="Externer Nachweis",
            starts_on=date(2026, 6, 1),
        )
    )
    db.session.commit()
    rows = [r for r in city_coverage(db, [city.a, city.b]) if r.requirement == city.first_aid]
    assert table(rows) == [
        ("Erste Hilfe", None, 0, 0, 0, 0, 0, 1, 0, None),
        ("Erste Hilfe", "B", 0, 0, 0, 0, 0, 1, 0, None),
    ]


def test_no_departments_no_rows(db, city):
    assert city_coverage(db, []) == []


def test_hr_reports_on_the_whole_city_by_its_top_departments(db, city, hr):
    assert scope_for(db.session, hr, None) == (None, [city.a, city.b])


def test_a_head_reports_on_the_departments_they_head_with_their_children(db, make, city):
    head_of_a = make.user(roles=(Role.EMPLOYEE, Role.HEAD), heads=(city.a,))
    assert scope_for(db.session, head_of_a, None) == ([city.a], [city.a, city.a1, city.a2])
    head_of_two = make.user(roles=(Role.EMPLOYEE, Role.HEAD), heads=(city.b, city.a1))
    roots, shown = scope_for(db.session, head_of_two, None)
    assert roots == [city.a1, city.b]  # by name: "Amt für Bildung", "Dezernat II"
    assert shown == [city.a1, city.school, city.b]


def test_a_chosen_department_is_shown_with_its_children(db, make, city, hr):
    assert scope_for(db.session, hr, city.a1) == ([city.a1], [city.a1, city.school])
    assert scope_for(db.session, hr, city.school) == ([city.school], [city.school])


def test_an_employee_without_a_role_reports_on_nothing(db, city, staff_user):
    assert scope_for(db.session, staff_user, None) == ([], [])


def snapshot_count(db) -> int:
    return db.session.scalar(select(func.count(CoverageSnapshot.id)))


def test_a_snapshot_is_taken_once_a_day(db, city):
    # Basis: 5 departments and the city; Erste Hilfe: Dezernat II and the city.
    assert take_snapshot(db.session, today=TODAY, due_soon_days=DUE_SOON_DAYS) == 8
    db.session.commit()
    assert take_snapshot(db.session, today=TODAY, due_soon_days=DUE_SOON_DAYS) == 0
    assert snapshot_count(db) == 8
    tomorrow = TODAY + timedelta(days=1)
    assert take_snapshot(db.session, today=tomorrow, due_soon_days=DUE_SOON_DAYS) == 8
    assert snapshot_count(db) == 16


def test_the_trend_reads_back_what_the_snapshot_stored(db, city):
    take_snapshot(db.session, today=TODAY, due_soon_days=DUE_SOON_DAYS)
    db.session.commit()
    ids = [city.basis.id, city.first_aid.id]
    assert trend(db.session, department=None, requirement_ids=ids) == {
        city.basis.id: [TrendPoint(TODAY, 4, 2)],
        city.first_aid.id: [TrendPoint(TODAY, 1, 0)],
    }
    assert trend(db.session, department=city.a, requirement_ids=ids) == {
        city.basis.id: [TrendPoint(TODAY, 3, 2)],
        city.first_aid.id: [],
    }


def test_the_trend_is_oldest_first_per_requirement(db, city):
    def stored(day, requirement, in_scope, covered, department=None):
        db.session.add(
            CoverageSnapshot(
                taken_on=day,
                department_id=department.id if department else None,
                requirement_id=requirement.id,
                in_scope=in_scope,
                covered=covered,
                overdue=0,
                due_soon=0,
                exempt=0,
            )
        )

    stored(date(2026, 3, 1), city.basis, 10, 6)
    stored(date(2026, 1, 1), city.basis, 10, 2)
    stored(date(2026, 2, 1), city.first_aid, 4, 1)
    stored(date(2026, 2, 1), city.basis, 10, 5)
    stored(date(2026, 2, 1), city.basis, 3, 3, department=city.b)  # another area's line
    db.session.commit()
    found = trend(db.session, department=None, requirement_ids=[city.basis.id])
    assert found == {
        city.basis.id: [
            TrendPoint(date(2026, 1, 1), 10, 2),
            TrendPoint(date(2026, 2, 1), 10, 5),
            TrendPoint(date(2026, 3, 1), 10, 6),
        ]
    }
    assert [p.coverage_percent for p in found[city.basis.id]] == [20.0, 50.0, 60.0]
    assert trend(db.session, department=city.b, requirement_ids=[city.basis.id]) == {
        city.basis.id: [TrendPoint(date(2026, 2, 1), 3, 3)]
    }


def test_a_point_without_anyone_in_scope_has_no_percentage():
    assert TrendPoint(TODAY, 0, 0).coverage_percent is None
    assert TrendPoint(TODAY, 3, 1).coverage_percent == 33.3

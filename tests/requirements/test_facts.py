"""The kept coverage facts equal the live computation after every kind of change.

Each test makes one kind of change the way the product makes it (services, imports, pages'
services), commits, and then checks two things: the status a user would see changed as it
should, and the whole table equals ``fact_query`` (0 differences), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.core.types import utcnow
from app.courses.models import Completion, EnrolmentStatus
from app.courses.services import attendance
from app.courses.services import enrolment as enrolments
from app.extensions import db as _db
from app.requirements import counts, facts
from app.requirements.models import (
    AudienceKind,
    AudienceRule,
    CoverageFact,
    CoverageRebuild,
    Requirement,
)
from app.requirements.services import RequirementData, add_exemption, save_requirement
from app.requirements.status import measures, status_query
from app.staff.models import Department, Employee
from app.staff.services import move_department
from tests.imports.conftest import Importer, csv_bytes

TODAY = date(2026, 11, 29)


def status_of(employee_id: int, requirement_id: int, today: date = TODAY) -> str | None:
    rows = _db.session.execute(
        status_query(today=today, due_soon_days=30, employee_id=employee_id)
    ).all()
    found = {row.requirement_id: row.status for row in rows}
    return found.get(requirement_id)


def assert_table_matches() -> None:
    found = facts.differences(_db.session)
    assert found.total == 0, found.examples
    kept = _db.session.scalar(select(func.count()).select_from(CoverageFact))
    assert kept, "the table is empty: nothing was compared"
    assert_counts_match()


def assert_counts_match() -> None:
    """The counts kept per department equal counting the facts, and what reports read from
    them (with the day's exemptions) equals counting every person's status."""
    assert counts.is_built(_db.session, TODAY, 30)
    found, examples = counts.differences(_db.session)
    assert found == 0, examples
    for roots in (None, [_db.session.scalars(select(Department)).first()]):
        read = counts.per_department(_db.session, today=TODAY, due_soon_days=30, roots=roots)
        rows = status_query(today=TODAY, due_soon_days=30, roots=roots).subquery()
        counted = select(rows.c.department_id, rows.c.requirement_id, *measures(rows)).group_by(
            rows.c.department_id, rows.c.requirement_id
        )
        assert _numbers(select(read)) == _numbers(counted)


def _numbers(query) -> set[tuple[int, ...]]:
    return {tuple(int(n or 0) for n in row) for row in _db.session.execute(query)}


@pytest.fixture
def city(db, make):
    top = make.department("STADT", name="Stadtverwaltung")
    kita = make.department("FB-51", name="Kinderbetreuung", parent=top)
    office = make.department("FB-32", name="Bürgeramt", parent=top)
    course = make.course("IKK", validity_months=None)
    other = make.course("IKK-E", validity_months=12)
    everyone = Requirement(
        name="Basis",
        first_due_date=date(2026, 3, 1),
        grace_days=90,
        renewal_months=24,
        renewal_window_days=60,
        courses=[course],
    )
    everyone.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    educators = Requirement(name="Kita", grace_days=30, courses=[other])
    educators.audience = [
        AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=kita),
        AudienceRule(kind=AudienceKind.POSITION.value, position="Hausmeister", exclude=True),
    ]
    db.session.add_all([everyone, educators])
    db.session.commit()
    counts.build(db.session, day=TODAY, due_soon_days=30)
    people = {
        "anna": make.employee(kita, position="Erzieherin", entry_date=date(2019, 1, 1)),
        "ben": make.employee(office, position="Sachbearbeiter", entry_date=date(2020, 5, 1)),
        "cem": make.employee(kita, position="Hausmeister", entry_date=None),
    }
    return {
        "top": top,
        "kita": kita,
        "office": office,
        "course": course,
        "other": other,
        "everyone": everyone,
        "educators": educators,
        **people,
    }


def test_new_people_and_requirements_are_kept_at_once(city):
    assert status_of(city["anna"].id, city["everyone"].id) == "overdue"
    assert status_of(city["anna"].id, city["educators"].id) == "overdue"
    assert status_of(city["cem"].id, city["educators"].id) is None  # excluded
    assert_table_matches()


def test_a_completion_added_changed_and_deleted(city):
    anna = city["anna"]
    completion = Completion(
        employee=anna, course=city["course"], completed_on=date(2026, 1, 10), valid_until=None
    )
    _db.session.add(completion)
    _db.session.commit()
    assert status_of(anna.id, city["everyone"].id) == "compliant"
    assert_table_matches()
    completion.completed_on = date(2024, 1, 10)  # ends 2026-01-09: overdue
    _db.session.commit()
    assert status_of(anna.id, city["everyone"].id) == "overdue"
    assert_table_matches()
    _db.session.delete(completion)
    _db.session.commit()
    assert_table_matches()


def test_attendance_recorded_and_withdrawn(city, make, hr):
    anna = city["anna"]
    course_session = make.course_session(city["course"], starts_in=timedelta(days=2))
    booked = enrolments.enrol(_db.session, employee=anna, course_session=course_session, actor=hr)
    _db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=3), tick=False):
        attendance.record_attendance(
            _db.session,
            course_session=course_session,
            outcomes={booked.id: EnrolmentStatus.ATTENDED},
            actor=hr,
        )
        _db.session.commit()
        today = utcnow().date()
        assert status_of(anna.id, city["everyone"].id, today) == "compliant"
        assert_table_matches()
        attendance.record_attendance(
            _db.session,
            course_session=course_session,
            outcomes={booked.id: EnrolmentStatus.NO_SHOW},
            actor=hr,
        )
        _db.session.commit()
        assert status_of(anna.id, city["everyone"].id, today) == "overdue"
        assert_table_matches()


def test_a_person_moves_changes_position_and_leaves(city):
    ben = city["ben"]
    assert status_of(ben.id, city["educators"].id) is None
    ben.department = city["kita"]
    _db.session.commit()
    assert status_of(ben.id, city["educators"].id) == "overdue"
    assert_table_matches()
    ben.position = "hausmeister"  # excluded, compared without case
    _db.session.commit()
    assert status_of(ben.id, city["educators"].id) is None
    ben.exit_date = TODAY
    _db.session.commit()
    assert status_of(ben.id, city["everyone"].id) == "overdue"  # the last working day
    assert status_of(ben.id, city["everyone"].id, TODAY + timedelta(days=1)) is None
    ben.active = False
    _db.session.commit()
    assert status_of(ben.id, city["everyone"].id) is None
    assert_table_matches()


def test_a_department_moves_with_its_subtree(city, make):
    group = make.department("FB-32-1", name="Meldestelle", parent=city["office"])
    dana = make.employee(group, entry_date=date(2021, 1, 1))
    assert status_of(dana.id, city["educators"].id) is None
    move_department(_db.session, city["office"], city["kita"])
    _db.session.commit()
    assert status_of(dana.id, city["educators"].id) == "overdue"
    assert_table_matches()


def test_requirement_changed_through_the_service(city, hr):
    everyone = city["everyone"]
    data = RequirementData(
        name=everyone.name,
        courses=[city["course"], city["other"]],
        include_departments=[city["kita"]],
        first_due_date=date(2027, 3, 1),
        renewal_months=24,
    )
    save_requirement(_db.session, data=data, actor=hr, requirement=everyone)
    _db.session.commit()
    assert status_of(city["ben"].id, everyone.id) is None
    assert status_of(city["anna"].id, everyone.id) == "pending"
    assert_table_matches()
    everyone.active = False
    _db.session.commit()
    assert status_of(city["anna"].id, everyone.id) is None
    assert_table_matches()


def test_exemptions_are_read_on_the_day(city, hr):
    anna = city["anna"]
    add_exemption(
        _db.session,
        employee=anna,
        requirement=city["everyone"],
        reason="Elternzeit",
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=10),
        actor=hr,
    )
    _db.session.commit()
    assert status_of(anna.id, city["everyone"].id, TODAY - timedelta(days=1)) == "overdue"
    assert status_of(anna.id, city["everyone"].id) == "exempt"
    assert status_of(anna.id, city["everyone"].id, TODAY + timedelta(days=11)) == "overdue"
    assert_table_matches()


def test_imports_of_staff_departments_and_completions(city):
    importer = Importer()
    header = ["Personalnummer", "Vorname", "Nachname", "E-Mail", "Organisationseinheit"]
    rows = [header, ["9001", "Eva", "Neu", "eva@stadt.example", "FB-51"]]
    rows += [
        [e.personnel_number, e.first_name, e.last_name, e.email or "", "FB-51"]
        for e in (city["anna"], city["ben"], city["cem"])
    ]
    importer.run("staff", csv_bytes(rows))
    eva = _db.session.scalar(select(Employee).where(Employee.personnel_number == "9001"))
    assert status_of(eva.id, city["educators"].id) == "pending"  # 30 days from today
    assert status_of(city["ben"].id, city["educators"].id) == "overdue"  # moved by the file
    assert_table_matches()

    completions = [
        ["Personalnummer", "Kurs", "Datum"],
        [city["anna"].personnel_number, "IKK", "10.01.2026"],
        ["9001", "IKK-E", "01.11.2026"],
    ]
    importer.run("completions", csv_bytes(completions))
    assert status_of(city["anna"].id, city["everyone"].id) == "compliant"
    assert status_of(eva.id, city["educators"].id) == "compliant"
    assert_table_matches()

    departments = [
        ["Code", "Name", "Übergeordnet"],
        ["STADT", "Stadtverwaltung", ""],
        ["FB-51", "Kinderbetreuung", "FB-32"],
        ["FB-32", "Bürgeramt", "STADT"],
    ]
    importer.run("departments", csv_bytes(departments))
    assert_table_matches()

    full = [header, ["9001", "Eva", "Neu", "eva@stadt.example", "FB-51"]]
    importer.run("staff", csv_bytes(full), full=True)  # everyone else leaves
    assert status_of(city["anna"].id, city["everyone"].id) is None
    assert_table_matches()


def test_a_large_city_rebuilds_a_changed_requirement_in_the_background(city, app):
    app.config["COVERAGE_INLINE_MAX_STAFF"] = 0
    try:
        everyone = city["everyone"]
        everyone.audience = [
            AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=city["office"])
        ]
        _db.session.commit()
        queued = facts.queued_rebuild_ids(_db.session)
        assert len(queued) == 1
        assert facts.differences(_db.session).total > 0  # not yet rebuilt
        assert facts.run_rebuild(_db.session, queued[0]) is True
        assert facts.run_rebuild(_db.session, queued[0]) is False  # safe to run twice
        rebuild = _db.session.get(CoverageRebuild, queued[0])
        assert rebuild.state == "done" and rebuild.employees_done == rebuild.employees_total == 3
        assert status_of(city["anna"].id, everyone.id) is None
        assert_table_matches()
    finally:
        app.config["COVERAGE_INLINE_MAX_STAFF"] = 5000


def test_a_rebuild_repairs_whatever_drifted(city):
    _db.session.execute(CoverageFact.__table__.update().values(due_on=date(2000, 1, 1)))
    _db.session.execute(
        CoverageFact.__table__.delete().where(CoverageFact.employee_id == city["ben"].id)
    )
    _db.session.commit()
    drift = facts.differences(_db.session)
    assert drift.missing >= 4 and drift.extra >= 1 and drift.examples
    facts.rebuild_facts(_db.session)
    assert_table_matches()


def test_a_report_in_the_same_transaction_reads_its_own_writes(city):
    anna = city["anna"]
    _db.session.add(
        Completion(
            employee=anna, course=city["course"], completed_on=date(2026, 1, 10), valid_until=None
        )
    )
    assert status_of(anna.id, city["everyone"].id) == "compliant"  # before any commit
    _db.session.rollback()
    assert status_of(anna.id, city["everyone"].id) == "overdue"
    assert_table_matches()


def test_changes_to_the_same_people_at_the_same_moment(city, app):
    """Eight transactions, each giving Anna and Ben a completion on another day, released
    together on separate connections: none fails, and the rows end up as computed live
    (without serialising the writers, PostgreSQL lost updates or hit the primary key)."""
    from tests.courses.concurrent import run_at_once

    people = [city["anna"].id, city["ben"].id]
    course_id = city["course"].id

    def job(day: date):
        def give(session):
            for employee_id in people:
                session.add(
                    Completion(
                        employee_id=employee_id,
                        course_id=course_id,
                        completed_on=day,
                        valid_until=None,
                    )
                )

        return give

    days = [date(2025, 1, 1) + timedelta(days=40 * n) for n in range(8)]
    assert run_at_once(app, [job(day) for day in days]) == []
    assert status_of(people[0], city["everyone"].id) == "compliant"
    rows = _db.session.execute(
        select(CoverageFact.valid_until).where(
            CoverageFact.employee_id.in_(people),
            CoverageFact.requirement_id == city["everyone"].id,
        )
    ).scalars()
    # The last completion (2025-10-08) starts a new period: 24 months, minus a day.
    assert set(rows) == {date(2027, 10, 7)}
    assert_table_matches()

"""Statuses in SQL, on SQLite and PostgreSQL alike, for the edge cases a city runs into."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.courses.models import Completion
from app.requirements.models import AudienceKind, AudienceRule, Exemption, Requirement
from app.requirements.status import FOREVER, status_query

TODAY = date(2026, 6, 15)


@pytest.fixture
def course(make):
    return make.course("IKK", validity_months=36)


@pytest.fixture
def requirement(db, course):
    """Everyone; due 1 March 2026 or 90 days after entry; renew every 24 months."""
    created = Requirement(
        name="Basis",
        first_due_date=date(2026, 3, 1),
        grace_days=90,
        renewal_months=24,
        courses=[course],
    )
    created.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(created)
    db.session.commit()
    return created


def statuses(db, today=TODAY, due_soon_days=30, **filters):
    rows = db.session.execute(
        status_query(today=today, due_soon_days=due_soon_days, **filters)
    ).all()
    return {row.employee_id: (row.status, row.due_date) for row in rows}


def complete(db, employee, course, on, valid_until="course"):
    if valid_until == "course":
        valid_until = date(on.year + 3, on.month, on.day) - timedelta(days=1)
    db.session.add(
        Completion(employee=employee, course=course, completed_on=on, valid_until=valid_until)
    )
    db.session.commit()


def test_compliant_until_the_renewal_ends(db, make, requirement, course):
    person = make.employee(entry_date=date(2015, 1, 1))
    complete(db, person, course, date(2025, 1, 10))
    # Renewal (24 months) ends before the course validity (36 months): it decides.
    assert statuses(db)[person.id] == ("compliant", date(2027, 1, 9))


def test_expired_yesterday_is_overdue_and_due_today_is_due_soon(db, make, requirement, course):
    expired = make.employee(entry_date=date(2015, 1, 1))
    complete(db, expired, course, date(2024, 6, 15))  # counts until 14 June 2026
    assert statuses(db)[expired.id] == ("overdue", date(2026, 6, 14))
    assert statuses(db, today=date(2026, 6, 14))[expired.id] == ("due_soon", date(2026, 6, 14))
    assert statuses(db, today=date(2026, 5, 14))[expired.id] == ("compliant", date(2026, 6, 14))


def test_never_trained_is_overdue_after_the_first_due_date(db, make, requirement):
    person = make.employee(entry_date=date(2015, 1, 1))
    assert statuses(db)[person.id] == ("overdue", date(2026, 3, 1))
    assert statuses(db, today=date(2026, 1, 15))[person.id] == ("pending", date(2026, 3, 1))
    assert statuses(db, today=date(2026, 2, 1))[person.id] == ("due_soon", date(2026, 3, 1))


def test_new_staff_get_their_grace_period(db, make, requirement):
    starter = make.employee(entry_date=date(2026, 5, 1))  # due 30 July 2026
    assert statuses(db)[starter.id] == ("pending", date(2026, 7, 30))
    assert statuses(db, today=date(2026, 7, 10))[starter.id][0] == "due_soon"
    assert statuses(db, today=date(2026, 7, 31))[starter.id][0] == "overdue"


def test_exemption_runs_and_ends(db, make, requirement):
    person = make.employee(entry_date=date(2015, 1, 1))
    db.session.add(
        Exemption(
            employee=person,
            requirement=requirement,
            reason="Elternzeit",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 6, 30),
        )
    )
    db.session.commit()
    assert statuses(db)[person.id][0] == "exempt"
    assert statuses(db, today=date(2026, 7, 1))[person.id][0] == "overdue"


def test_leavers_and_inactive_staff_are_out_of_scope(db, make, requirement):
    leaving = make.employee(entry_date=date(2015, 1, 1), exit_date=date(2026, 6, 30))
    gone = make.employee(entry_date=date(2015, 1, 1), exit_date=date(2026, 6, 1))
    inactive = make.employee(active=False)
    found = statuses(db)
    assert leaving.id in found
    assert gone.id not in found and inactive.id not in found


def test_equivalent_courses_any_one_counts(db, make, requirement, course):
    refresher = make.course("AUF", validity_months=None)
    requirement.courses.append(refresher)
    db.session.commit()
    person = make.employee(entry_date=date(2015, 1, 1))
    complete(db, person, refresher, date(2026, 1, 20), valid_until=None)
    assert statuses(db)[person.id] == ("compliant", date(2028, 1, 19))


def test_unlimited_completion_without_renewal_never_expires(db, make, course):
    once = Requirement(name="Einmalig", first_due_date=date(2026, 1, 1), courses=[course])
    once.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(once)
    db.session.commit()
    person = make.employee()
    complete(db, person, course, date(2010, 5, 5), valid_until=None)
    assert statuses(db)[person.id] == ("compliant", FOREVER)


def test_nested_audiences_with_exclusions(db, make, course):
    d3 = make.department("D3")
    kitas = make.department("D3-KB", parent=d3)
    kita = make.department("D3-KB-1", parent=kitas)
    library = make.department("D3-BIB", parent=d3)
    rule = Requirement(name="Eltern", first_due_date=date(2026, 1, 1), courses=[course])
    rule.audience = [
        AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=d3),
        AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=library, exclude=True),
        AudienceRule(kind=AudienceKind.POSITION.value, position="Hausmeister/in", exclude=True),
        AudienceRule(kind=AudienceKind.POSITION.value, position="Sozialarbeiter/in"),
    ]
    db.session.add(rule)
    db.session.commit()
    educator = make.employee(kita, position="Erzieher/in")
    make.employee(kita, position="Hausmeister/in")  # excluded by position
    make.employee(library)  # excluded by department
    social_worker_elsewhere = make.employee(position="sozialarbeiter/in")
    found = statuses(db)
    assert set(found) == {educator.id, social_worker_elsewhere.id}
    assert set(statuses(db, roots=[kitas])) == {educator.id}


def test_rules_twice_for_the_same_person_count_once(db, make, requirement):
    requirement.audience.append(AudienceRule(kind=AudienceKind.POSITION.value, position="X"))
    db.session.commit()
    person = make.employee(position="X")
    rows = db.session.execute(status_query(today=TODAY, due_soon_days=30)).all()
    assert [r.employee_id for r in rows].count(person.id) == 1


def test_department_move_counts_for_the_new_department(db, make, requirement):
    old, new = make.department("ALT"), make.department("NEU")
    person = make.employee(old)
    person.department = new
    db.session.commit()
    assert person.id in statuses(db, roots=[new])
    assert person.id not in statuses(db, roots=[old])


def test_no_completion_rows_are_touched(db, make, requirement, course):
    person = make.employee()
    complete(db, person, course, date(2025, 1, 10))
    statuses(db)
    assert len(db.session.scalars(select(Completion)).all()) == 1


@pytest.fixture
def renewing(db, course):
    rule = Requirement(
        name="Erneuerung",
        first_due_date=date(2024, 1, 1),
        renewal_months=24,
        renewal_window_days=60,
        courses=[course],
    )
    rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(rule)
    db.session.commit()
    return rule


def test_renewing_inside_the_window_does_not_shorten_the_next_period(db, make, renewing, course):
    early = make.employee(entry_date=date(2015, 1, 1))
    complete(db, early, course, date(2024, 1, 10), valid_until=None)  # period ends 2026-01-09
    complete(db, early, course, date(2025, 12, 1), valid_until=None)  # 39 days early
    assert statuses(db, requirement_id=renewing.id)[early.id] == ("compliant", date(2028, 1, 9))


def test_renewing_before_the_window_starts_a_new_period(db, make, renewing, course):
    eager = make.employee(entry_date=date(2015, 1, 1))
    complete(db, eager, course, date(2024, 1, 10), valid_until=None)
    complete(db, eager, course, date(2025, 6, 1), valid_until=None)  # 222 days early
    assert statuses(db, requirement_id=renewing.id)[eager.id] == ("compliant", date(2027, 5, 31))


def test_fixed_yearly_cycle(db, make, course):
    yearly = Requirement(
        name="Jährlich",
        first_due_date=date(2026, 3, 31),
        cycle_month=3,
        cycle_day=31 - 3,
        courses=[course],
    )  # due every 28 March
    yearly.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(yearly)
    db.session.commit()
    before, after = make.employee(), make.employee()
    complete(db, before, course, date(2026, 3, 10), valid_until=None)
    complete(db, after, course, date(2026, 4, 5), valid_until=None)
    found = statuses(db, requirement_id=yearly.id)
    assert found[before.id] == ("compliant", date(2027, 3, 28))
    assert found[after.id] == ("compliant", date(2028, 3, 28))
    assert statuses(db, today=date(2027, 3, 29), requirement_id=yearly.id)[before.id][0] == (
        "overdue"
    )


# --- the README's examples ("The rules, exactly") ------------------------------------------


def _rule(db, course, name, **fields):
    rule = Requirement(name=name, first_due_date=date(2020, 1, 1), courses=[course], **fields)
    rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(rule)
    db.session.commit()
    return rule


def _held(db, rule, employee, today):
    row = db.session.execute(
        status_query(today=today, due_soon_days=30, requirement_id=rule.id, employee_id=employee.id)
    ).one()
    return row.status, row.valid_until


def test_readme_early_renewals_chain(db, make):
    unlimited = make.course("UNB", validity_months=None)
    rule = _rule(db, unlimited, "Kette", renewal_months=24, renewal_window_days=90)
    person = make.employee(entry_date=date(2015, 1, 1))
    complete(db, person, unlimited, date(2020, 12, 28), valid_until=None)
    assert _held(db, rule, person, date(2022, 1, 1)) == ("compliant", date(2022, 12, 27))
    complete(db, person, unlimited, date(2022, 10, 28), valid_until=None)  # 60 days early
    assert _held(db, rule, person, date(2023, 1, 1)) == ("compliant", date(2024, 12, 27))
    complete(db, person, unlimited, date(2024, 11, 27), valid_until=None)  # 30 days early
    assert _held(db, rule, person, date(2026, 11, 26)) == ("compliant", date(2026, 12, 27))
    assert _held(db, rule, person, date(2026, 12, 2))[0] == "due_soon"
    assert _held(db, rule, person, date(2026, 12, 27))[0] == "due_soon"
    assert _held(db, rule, person, date(2026, 12, 28))[0] == "overdue"


def test_readme_a_course_validity_caps_an_early_renewal(db, make):
    """As the README says: a renewal counts no longer than its certificate."""
    course = make.course("ZWJ", validity_months=24)
    rule = _rule(db, course, "Gedeckelt", renewal_months=24, renewal_window_days=90)
    person = make.employee(entry_date=date(2015, 1, 1))
    complete(db, person, course, date(2020, 12, 28), valid_until=date(2022, 12, 27))
    complete(db, person, course, date(2022, 10, 28), valid_until=date(2024, 10, 27))
    assert _held(db, rule, person, date(2023, 1, 1)) == ("compliant", date(2024, 10, 27))


def test_readme_months_clamp_to_the_month_end(db, make):
    unlimited = make.course("UNB", validity_months=None)
    rule = _rule(db, unlimited, "Monatsende", renewal_months=18)
    person = make.employee(entry_date=date(2015, 1, 1))
    complete(db, person, unlimited, date(2025, 8, 31), valid_until=None)
    assert _held(db, rule, person, date(2026, 1, 1)) == ("compliant", date(2027, 2, 27))


def test_readme_status_days_around_the_end_of_validity(db, make):
    unlimited = make.course("UNB", validity_months=None)
    rule = _rule(db, unlimited, "Tage", renewal_months=12)
    person = make.employee(entry_date=date(2015, 1, 1))
    complete(db, person, unlimited, date(2025, 7, 1), valid_until=None)  # until 30.06.2026
    assert [
        _held(db, rule, person, day)[0]
        for day in (date(2026, 5, 30), date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 1))
    ] == ["compliant", "due_soon", "due_soon", "overdue"]

"""Statuses on the day before, on and after every boundary of the coverage rules (issue 13).

Each test states the expected status per day and checks that the product agrees, both from
the kept ``coverage_facts`` and computed live, and that the oracle (``tests/requirements/
oracle.py``, a plain-Python reading of the README) agrees too, roll-ups included.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.requirements import oracle
from tests.requirements.oracle import Course, Dept, Done, Exempt, Person, Req, Rule, World
from tests.requirements.worlds import (
    oracle_rollup,
    oracle_statuses,
    product_rollup,
    product_statuses,
    store,
)

ONE_DAY = timedelta(days=1)
PERSON, REQUIREMENT = 1, 1
KEY = (PERSON, REQUIREMENT)


def one_person(
    *,
    completed: tuple[date, ...] = (),
    validity_months: int | None = None,
    person: dict | None = None,
    exemptions: tuple[tuple[date, date | None], ...] = (),
    **requirement,
) -> World:
    """One department, one person, one course, one requirement for everyone."""
    fields = {"entry_date": date(2015, 1, 1), "on_staff_since": date(2015, 1, 1)}
    fields.update(person or {})
    requirement.setdefault("first_due_date", date(2020, 1, 1))
    return World(
        departments=[Dept(1)],
        people=[Person(PERSON, 1, **fields)],
        courses=[Course(1, validity_months)],
        completions=[Done(n, PERSON, 1, day) for n, day in enumerate(completed, start=1)],
        requirements=[
            Req(REQUIREMENT, frozenset({1}), (Rule("all"),), **requirement),
        ],
        exemptions=[Exempt(PERSON, REQUIREMENT, start, end) for start, end in exemptions],
    )


def expect(
    world: World,
    days: dict[date, str | None],
    *,
    due_soon_days: int = 30,
    due: date | None = None,
    valid_until: date | None | str = "any",
) -> None:
    """On each day the person has this status (None: out of scope) in the table, live and in
    the oracle, with the same dates; the roll-ups agree too."""
    store(world)
    for day, status in days.items():
        expected = oracle_statuses(world, day, due_soon_days).get(KEY)
        assert (expected and expected.status) == status, f"oracle on {day}: {expected}"
        if expected is not None and due is not None:
            assert expected.due_date == due, f"oracle's due date on {day}"
        if expected is not None and valid_until != "any":
            assert expected.valid_until == valid_until, f"oracle's valid until on {day}"
        for live in (False, True):
            found = product_statuses(day, due_soon_days, live=live).get(KEY)
            source = "live" if live else "table"
            assert found == expected, f"{source} on {day}: {found} (oracle: {expected})"
        assert product_rollup(day, due_soon_days) == oracle_rollup(world, day, due_soon_days)


# --- 1. early renewals chain -------------------------------------------------------------


def test_the_issues_example_chains_two_early_renewals(db):
    """24 months, 90-day window: 28.12.2020, 28.10.2022 (60 days early), 27.11.2024 (30 days
    early) → valid until 27.12.2026, due soon from 27.11.2026, overdue from 28.12.2026."""
    world = one_person(
        completed=(date(2020, 12, 28), date(2022, 10, 28), date(2024, 11, 27)),
        renewal_months=24,
        renewal_window_days=90,
    )
    end = date(2026, 12, 27)
    expect(
        world,
        {
            date(2026, 11, 26): "compliant",
            date(2026, 11, 27): "due_soon",
            date(2026, 11, 28): "due_soon",
            date(2026, 12, 26): "due_soon",
            date(2026, 12, 27): "due_soon",
            date(2026, 12, 28): "overdue",
        },
        due=end,
        valid_until=end,
    )


def test_a_renewal_on_the_windows_first_day_chains(db):
    # The first period ends 27.12.2022; the 90-day window opens on 28.09.2022.
    world = one_person(
        completed=(date(2020, 12, 28), date(2022, 9, 28)),
        renewal_months=24,
        renewal_window_days=90,
    )
    expect(
        world,
        {date(2024, 12, 27): "due_soon", date(2024, 12, 28): "overdue"},
        due_soon_days=0,
        valid_until=date(2024, 12, 27),
    )


def test_a_renewal_the_day_before_the_window_starts_its_own_period(db):
    world = one_person(
        completed=(date(2020, 12, 28), date(2022, 9, 27)),
        renewal_months=24,
        renewal_window_days=90,
    )
    expect(
        world,
        {
            date(2024, 9, 25): "compliant",
            date(2024, 9, 26): "due_soon",
            date(2024, 9, 27): "overdue",
        },
        due_soon_days=0,
        valid_until=date(2024, 9, 26),
    )


@pytest.mark.parametrize(
    "renewed",
    [date(2022, 12, 26), date(2022, 12, 27), date(2022, 12, 28)],
    ids=["day-before-the-end", "on-the-last-valid-day", "day-after"],
)
def test_a_renewal_around_the_last_valid_day_ends_two_years_later(db, renewed):
    # Inside the window it chains from 28.12.2022; the day after it starts a period itself:
    # either way the next period ends on 27.12.2024.
    world = one_person(
        completed=(date(2020, 12, 28), renewed),
        renewal_months=24,
        renewal_window_days=90,
    )
    expect(
        world,
        {date(2024, 12, 27): "due_soon", date(2024, 12, 28): "overdue"},
        due_soon_days=0,
        valid_until=date(2024, 12, 27),
    )


def test_a_renewal_after_a_gap_starts_from_its_own_date(db):
    world = one_person(
        completed=(date(2020, 12, 28), date(2023, 1, 10)),
        renewal_months=24,
        renewal_window_days=90,
    )
    expect(
        world,
        {
            date(2025, 1, 9): "due_soon",
            date(2025, 1, 10): "overdue",
        },
        due_soon_days=0,
        valid_until=date(2025, 1, 9),
    )


def test_the_course_validity_ends_a_chained_period_early(db):
    # The course counts 12 months, the requirement 24: the course decides each time.
    world = one_person(
        completed=(date(2024, 3, 1), date(2025, 2, 1)),
        validity_months=12,
        renewal_months=24,
        renewal_window_days=60,
    )
    expect(
        world,
        {date(2026, 1, 31): "due_soon", date(2026, 2, 1): "overdue"},
        due_soon_days=0,
        valid_until=date(2026, 1, 31),
    )


# --- 2. month ends clamp -----------------------------------------------------------------


def test_31_august_plus_18_months_ends_on_27_february(db):
    # 31.08.2025 + 18 months = 28.02.2027 (clamped), so the last valid day is 27.02.2027.
    world = one_person(completed=(date(2025, 8, 31),), renewal_months=18)
    expect(
        world,
        {
            date(2027, 2, 26): "compliant",
            date(2027, 2, 27): "due_soon",
            date(2027, 2, 28): "overdue",
            date(2027, 3, 1): "overdue",
        },
        due_soon_days=0,
        valid_until=date(2027, 2, 27),
    )


def test_31_january_plus_one_month_of_course_validity(db):
    world = one_person(completed=(date(2026, 1, 31),), validity_months=1)
    expect(
        world,
        {
            date(2026, 2, 26): "compliant",
            date(2026, 2, 27): "due_soon",
            date(2026, 2, 28): "overdue",
        },
        due_soon_days=0,
        valid_until=date(2026, 2, 27),
    )


def test_a_chained_period_from_the_end_of_february(db):
    # 31.08.2025 + 6 months ends 27.02.2026; renewed in the window, the next 6 months start
    # on 28.02.2026 and end on 27.08.2026.
    world = one_person(
        completed=(date(2025, 8, 31), date(2026, 2, 1)),
        renewal_months=6,
        renewal_window_days=30,
    )
    expect(
        world,
        {date(2026, 8, 27): "due_soon", date(2026, 8, 28): "overdue"},
        due_soon_days=0,
        valid_until=date(2026, 8, 27),
    )


def test_the_fixed_yearly_cycle_counts_until_the_cycle_day(db):
    # Due every 28 March: a completion on the cycle day counts until the next year's.
    world = one_person(completed=(date(2026, 3, 28),), cycle=(3, 28))
    expect(
        world,
        {date(2027, 3, 28): "due_soon", date(2027, 3, 29): "overdue"},
        due_soon_days=0,
        valid_until=date(2027, 3, 28),
    )


# --- 3. leap years -----------------------------------------------------------------------


def test_29_february_plus_a_year_and_plus_four_years(db):
    yearly = one_person(completed=(date(2024, 2, 29),), renewal_months=12)
    expect(
        yearly,
        {
            date(2025, 2, 26): "compliant",
            date(2025, 2, 27): "due_soon",
            date(2025, 2, 28): "overdue",
        },
        due_soon_days=0,
        valid_until=date(2025, 2, 27),
    )


def test_29_february_plus_four_years_lands_on_29_february(db):
    world = one_person(completed=(date(2024, 2, 29),), validity_months=48)
    expect(
        world,
        {date(2028, 2, 28): "due_soon", date(2028, 2, 29): "overdue"},
        due_soon_days=0,
        valid_until=date(2028, 2, 28),
    )


def test_grace_days_across_29_february(db):
    # 30.12.2023 + 61 days = 29.02.2024.
    world = one_person(
        first_due_date=None, grace_days=61, person={"entry_date": date(2023, 12, 30)}
    )
    expect(
        world,
        {
            date(2024, 2, 28): "pending",
            date(2024, 2, 29): "due_soon",
            date(2024, 3, 1): "overdue",
        },
        due_soon_days=0,
        due=date(2024, 2, 29),
    )


# --- 4. a missing entry date -------------------------------------------------------------


def test_a_missing_entry_date_counts_from_on_staff_since(db):
    world = one_person(
        first_due_date=None,
        grace_days=90,
        person={"entry_date": None, "on_staff_since": date(2026, 4, 1)},
    )
    due = date(2026, 6, 30)
    expect(
        world,
        {
            date(2026, 5, 30): "pending",
            date(2026, 5, 31): "due_soon",
            date(2026, 6, 30): "due_soon",
            date(2026, 7, 1): "overdue",
            date(2026, 12, 1): "overdue",  # the due date does not move with the day
        },
        due=due,
    )


def test_a_missing_entry_date_after_a_lapsed_training_stays_overdue(db):
    # The training lapsed on 30.06.2026 (two years from 01.07.2024); the grace from
    # on_staff_since (01.01.2024 + 30 days) passed long ago.
    world = one_person(
        completed=(date(2024, 7, 1),),
        first_due_date=None,
        grace_days=30,
        renewal_months=24,
        person={"entry_date": None, "on_staff_since": date(2024, 1, 1)},
    )
    expect(
        world,
        {
            date(2026, 6, 30): "due_soon",
            date(2026, 7, 1): "overdue",
            date(2026, 11, 1): "overdue",
        },
        due=date(2026, 6, 30),
    )


def test_a_missing_entry_date_with_a_first_due_date_and_grace(db):
    # max(01.03.2026, 15.03.2026 + 30 days = 14.04.2026)
    world = one_person(
        first_due_date=date(2026, 3, 1),
        grace_days=30,
        person={"entry_date": None, "on_staff_since": date(2026, 3, 15)},
    )
    expect(
        world,
        {
            date(2026, 4, 13): "due_soon",
            date(2026, 4, 14): "due_soon",
            date(2026, 4, 15): "overdue",
        },
        due_soon_days=1,
        due=date(2026, 4, 14),
    )


# --- 5. the exit date is the last day in scope -------------------------------------------


def test_in_scope_up_to_and_including_the_exit_date(db):
    world = one_person(person={"exit_date": date(2026, 6, 30)})
    expect(
        world,
        {date(2026, 6, 29): "overdue", date(2026, 6, 30): "overdue", date(2026, 7, 1): None},
    )


def test_an_inactive_person_is_out_of_scope(db):
    world = one_person(person={"active": False})
    expect(world, {date(2026, 6, 30): None})


# --- 6. first due date and grace days ----------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "due"),
    [
        (date(2025, 11, 30), date(2026, 3, 1)),  # 28.02. + grace: the first due date wins
        (date(2025, 12, 1), date(2026, 3, 1)),  # both on 01.03.
        (date(2025, 12, 2), date(2026, 3, 2)),  # the grace wins
    ],
)
def test_the_later_of_first_due_date_and_entry_plus_grace(db, entry, due):
    # first due 01.03.2026, 90 days' grace
    world = one_person(first_due_date=date(2026, 3, 1), grace_days=90, person={"entry_date": entry})
    expect(
        world,
        {due - ONE_DAY: "pending", due: "due_soon", due + ONE_DAY: "overdue"},
        due_soon_days=0,
        due=due,
    )


def test_a_completion_expiring_before_the_first_due_date_is_due_then(db):
    # Valid until 31.01.2026, but nobody is due before 01.03.2026.
    world = one_person(
        completed=(date(2025, 2, 1),), validity_months=12, first_due_date=date(2026, 3, 1)
    )
    expect(
        world,
        {
            date(2026, 1, 31): "compliant",
            date(2026, 2, 1): "pending",
            date(2026, 3, 1): "due_soon",
            date(2026, 3, 2): "overdue",
        },
        due_soon_days=0,
        due=date(2026, 3, 1),
        valid_until=date(2026, 1, 31),
    )


# --- 7. exemptions -----------------------------------------------------------------------


def test_an_exemption_runs_from_its_first_to_its_last_day(db):
    world = one_person(exemptions=((date(2026, 1, 1), date(2026, 6, 30)),))
    expect(
        world,
        {
            date(2025, 12, 31): "overdue",
            date(2026, 1, 1): "exempt",
            date(2026, 6, 30): "exempt",
            date(2026, 7, 1): "overdue",
        },
    )


def test_an_open_exemption_runs_on(db):
    world = one_person(
        completed=(date(2024, 1, 10),),
        renewal_months=24,
        exemptions=((date(2025, 6, 1), None),),
    )
    expect(world, {date(2025, 5, 31): "compliant", date(2030, 1, 1): "exempt"})


# --- 8. the due-soon window --------------------------------------------------------------


def test_due_soon_from_the_days_before_the_due_date(db):
    # Valid until 30.06.2026 (01.07.2024 + 24 months − 1 day); 30 days' notice.
    world = one_person(completed=(date(2024, 7, 1),), renewal_months=24)
    expect(
        world,
        {
            date(2026, 5, 30): "compliant",
            date(2026, 5, 31): "due_soon",
            date(2026, 6, 1): "due_soon",
            date(2026, 6, 29): "due_soon",
            date(2026, 6, 30): "due_soon",
            date(2026, 7, 1): "overdue",
        },
        due=date(2026, 6, 30),
    )


def test_never_trained_becomes_due_soon_and_overdue(db):
    world = one_person(first_due_date=date(2026, 6, 30))
    expect(
        world,
        {
            date(2026, 5, 30): "pending",
            date(2026, 5, 31): "due_soon",
            date(2026, 6, 30): "due_soon",
            date(2026, 7, 1): "overdue",
        },
    )


def test_the_oracle_reads_the_month_end_rule_as_the_issue_states():
    assert oracle.months_later(date(2025, 8, 31), 18) == date(2027, 2, 28)
    assert oracle.course_valid_until(date(2026, 1, 31), 1) == date(2026, 2, 27)

"""Generated cities: the product's statuses and roll-ups equal the oracle's on every day.

Hypothesis generates departments, people (entry dates or none, exit dates, positions in any
case), courses (validity months), completions (chains of renewals, many on month ends),
requirements (renewal months and windows, yearly cycles, grace days, first due dates,
audiences with exclusions) and exemptions, stores them, and compares, on generated days and on
the days around every date the statuses turn on, the rows from ``coverage_facts``, the rows
computed live and the coverage roll-up with ``tests/requirements/oracle.py``.

Examples are derandomized, so CI runs the same ones every time and a failure reproduces;
``PROPERTY_EXAMPLES=500 PROPERTY_RANDOM=1`` explores further (a failure prints its blob).
"""

from __future__ import annotations

import os
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.requirements import counts
from config import TestConfig
from tests.requirements import oracle
from tests.requirements.oracle import Course, Dept, Done, Exempt, Person, Req, Rule, World
from tests.requirements.worlds import (
    clear,
    oracle_rollup,
    oracle_statuses,
    product_rollup,
    product_statuses,
    store,
)

ON_POSTGRESQL = TestConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql")
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", 25 if ON_POSTGRESQL else 60))

EARLIEST, LATEST = date(2019, 1, 1), date(2028, 12, 31)
POSITIONS = ["Erzieher/in", "ERZIEHER/IN", "Hausmeister", "Ärztin", "ärztin", None]


@st.composite
def days(draw, earliest: date = EARLIEST, latest: date = LATEST) -> date:
    """A day, often a month's end or a leap day."""
    day = draw(st.dates(earliest, latest))
    shape = draw(st.sampled_from(["any", "any", "month end", "leap day"]))
    if shape == "month end":
        following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        day = following - timedelta(days=1)
    elif shape == "leap day":
        day = date(draw(st.sampled_from([2020, 2024, 2028])), 2, 29)
    return min(max(day, earliest), latest)


@st.composite
def requirements(draw, requirement_id: int, course_ids: list[int], departments: int) -> Req:
    kind = draw(st.sampled_from(["months", "months", "months", "once", "cycle"]))
    months = window = cycle = None
    if kind == "months":
        months = draw(st.sampled_from([1, 6, 12, 18, 24, 36]))
        window = draw(st.sampled_from([None, 0, 30, 60, 90, 90]))
    elif kind == "cycle":
        cycle = (draw(st.integers(1, 12)), draw(st.integers(1, 28)))
    first_due = draw(st.none() | days(date(2022, 1, 1), date(2027, 12, 31)))
    grace = draw(st.sampled_from([0, 30, 61, 90, 365]) if first_due is None else st.none())
    if first_due is not None and draw(st.booleans()):
        grace = draw(st.sampled_from([0, 30, 90]))
    rule = st.one_of(
        st.builds(Rule, st.just("all")),
        st.builds(Rule, st.just("all")),
        st.builds(
            Rule,
            st.just("department"),
            department_id=st.integers(1, departments),
            exclude=st.booleans(),
        ),
        st.builds(
            Rule,
            st.just("position"),
            position=st.sampled_from([p for p in POSITIONS if p]),
            exclude=st.booleans(),
        ),
    )
    return Req(
        requirement_id,
        frozenset(draw(st.lists(st.sampled_from(course_ids), min_size=1, max_size=2))),
        tuple(draw(st.lists(rule, min_size=1, max_size=3))),
        first_due_date=first_due,
        grace_days=grace,
        renewal_months=months,
        renewal_window_days=window,
        cycle=cycle,
        active=draw(st.sampled_from([True, True, True, False])),
    )


@st.composite
def people(draw, person_id: int, departments: int) -> Person:
    entry = draw(st.none() | days(date(2010, 1, 1), date(2027, 6, 30)))
    on_staff_since = draw(days(date(2022, 1, 1), date(2027, 6, 30)))
    exit_date = draw(st.none() | days(date(2024, 1, 1), LATEST))
    if exit_date is not None and entry is not None and exit_date < entry:
        exit_date = entry
    return Person(
        person_id,
        draw(st.integers(1, departments)),
        entry,
        on_staff_since,
        exit_date,
        draw(st.sampled_from(POSITIONS)),
        draw(st.sampled_from([True, True, True, True, False])),
    )


@st.composite
def worlds(draw) -> World:
    n_departments = draw(st.integers(1, 4))
    departments = [Dept(1)] + [
        Dept(n, draw(st.none() | st.integers(1, n - 1))) for n in range(2, n_departments + 1)
    ]
    courses = [
        Course(n, draw(st.sampled_from([None, None, None, 1, 6, 12, 18, 24, 36, 48])))
        for n in range(1, draw(st.integers(1, 3)) + 1)
    ]
    course_ids = [c.id for c in courses]
    reqs = [
        draw(requirements(n, course_ids, n_departments))
        for n in range(1, draw(st.integers(1, 3)) + 1)
    ]
    persons = [draw(people(n, n_departments)) for n in range(1, draw(st.integers(1, 8)) + 1)]
    completions: list[Done] = []
    for person in persons:
        completions += draw(histories(person.id, courses, reqs, len(completions)))
    exemptions = []
    for _ in range(draw(st.integers(0, 3))):
        starts = draw(days(date(2023, 1, 1), date(2028, 6, 30)))
        length = draw(st.none() | st.integers(0, 400))
        exemptions.append(
            Exempt(
                draw(st.integers(1, len(persons))),
                draw(st.integers(1, len(reqs))),
                starts,
                None if length is None else starts + timedelta(days=length),
            )
        )
    return World(departments, persons, courses, completions, reqs, exemptions)


@st.composite
def histories(draw, person_id: int, courses: list[Course], reqs: list[Req], numbered: int):
    """A person's completions: each next one often on a day around a renewal window's edges
    of what they hold so far (so early renewals chain), sometimes after any gap."""
    by_id = {course.id: course for course in courses}
    renewing = [r for r in reqs if r.renewal_months is not None]
    done: list[Done] = []
    day = draw(days(date(2018, 1, 1), date(2023, 12, 31)))
    course_id = draw(st.sampled_from(sorted(by_id)))
    for _ in range(draw(st.integers(0, 5))):
        if all((d.course_id, d.completed_on) != (course_id, day) for d in done):
            done.append(Done(numbered + len(done) + 1, person_id, course_id, day))
        held = None
        if renewing and draw(st.integers(0, 3)) > 0:
            requirement = draw(st.sampled_from(renewing))
            held = oracle.held_until(done, by_id, requirement)
        if held is not None and held < LATEST:
            window = requirement.renewal_window_days or 0
            early = draw(
                st.sampled_from([-1, 0, 1, window - 1, window, window + 1]) | st.integers(0, window)
            )
            day = held - timedelta(days=max(early, -1))
            course_id = draw(st.sampled_from(sorted(requirement.course_ids)))
        else:
            day += timedelta(days=draw(st.integers(0, 1100)))
            course_id = draw(st.sampled_from(sorted(by_id)))
        if draw(st.integers(0, 5)) == 0:  # to a month's end
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(1)
        if day > LATEST:
            break
    return done


def boundaries(world: World, due_soon_days: int) -> list[date]:
    """The days around every date a status turns on: due dates, the start of due soon, ends
    of validity, exit dates, first and last days of exemptions."""
    turning: set[date] = set()
    for row in oracle.statuses(world, date(2000, 1, 1), due_soon_days).values():
        turning.add(row.due_date)
        turning.add(row.due_date - timedelta(days=due_soon_days))
        if row.valid_until is not None:
            turning.add(row.valid_until)
    for person in world.people:
        if person.exit_date is not None:
            turning.add(person.exit_date)
    for exemption in world.exemptions:
        turning.add(exemption.starts_on)
        if exemption.ends_on is not None:
            turning.add(exemption.ends_on)
    return sorted(
        turning_day + timedelta(days=shift)
        for turning_day in turning
        if EARLIEST <= turning_day <= LATEST
        for shift in (-1, 0, 1)
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("PROPERTY_RANDOM"),
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), due_soon_days=st.sampled_from([0, 1, 30, 45]), data=st.data())
def test_statuses_and_rollups_equal_the_oracle(db, world, due_soon_days, data):
    candidates = boundaries(world, due_soon_days)
    checked = data.draw(st.lists(days(), min_size=1, max_size=3), label="days")
    if candidates:
        checked += data.draw(
            st.lists(st.sampled_from(candidates), max_size=8, unique=True), label="boundaries"
        )
    # The first day is counted into coverage_counts before the people arrive: its roll-up
    # is then read from the counts their rows' rewrites kept up to date.
    counted_day = checked[0]
    clear()
    store(
        world,
        before_people=lambda: counts.build(
            db.session, day=counted_day, due_soon_days=due_soon_days
        ),
    )
    assert counts.is_built(db.session, counted_day, due_soon_days)
    for day in sorted(set(checked)):
        expected = oracle_statuses(world, day, due_soon_days)
        for live in (False, True):
            found = product_statuses(day, due_soon_days, live=live)
            assert found == expected, f"{'live' if live else 'table'} on {day}: " + "; ".join(
                f"{key}: product {found.get(key)} oracle {expected.get(key)}"
                for key in sorted(set(found) | set(expected))
                if found.get(key) != expected.get(key)
            )
        assert product_rollup(day, due_soon_days) == oracle_rollup(world, day, due_soon_days), (
            f"roll-up on {day}"
        )

"""An independent reading of the README's coverage rules, in plain Python, to check the SQL.

Nothing here imports the product's status computation: it is written from the rules as the
README, the requirement model's documented columns and issue 13 state them, so that a test
comparing the two finds where either misreads them.

- A person is in scope of an active requirement while they are active, in its audience (any
  rule that includes them, none that excludes them; a department rule covers its subtree,
  a position rule compares without case) and not past their exit date (the exit date is
  their last day in scope).
- First due: the requirement's first due date, or ``grace_days`` after entry, or the later
  of both; entry is the entry date, else the day the product first recorded the person
  (``on_staff_since``).
- A completion counts for its course's validity months (N months after a date, clamped to
  the month's last day, minus one day) and for the requirement's renewal months; the earlier
  end wins. Renewing inside the renewal window before what is held so far ends starts the next
  period when that ends, so early renewals chain. A yearly cycle instead counts until the
  cycle day a year after the next one.
- Due on: the later of the first due date and the end of what is held.
- On a day: exempt while an exemption runs (its end day included); overdue after the due
  date; due soon from ``due_soon_days`` before it; compliant while a completion is valid;
  pending otherwise.
- Roll-up per department subtree and requirement: in scope (exempt people not counted),
  each status, covered (a valid completion, so "due soon but still valid" counts) and
  covered / in scope in percent to one decimal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

#: How the product writes "never expires".
UNLIMITED = date(9999, 12, 31)

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Dept:
    id: int
    parent_id: int | None = None


@dataclass(frozen=True)
class Person:
    id: int
    department_id: int
    entry_date: date | None
    on_staff_since: date
    exit_date: date | None = None
    position: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Course:
    id: int
    validity_months: int | None


@dataclass(frozen=True)
class Done:
    """A completion."""

    id: int
    employee_id: int
    course_id: int
    completed_on: date


@dataclass(frozen=True)
class Rule:
    kind: str  # "all", "department", "position"
    department_id: int | None = None
    position: str | None = None
    exclude: bool = False


@dataclass(frozen=True)
class Req:
    id: int
    course_ids: frozenset[int]
    audience: tuple[Rule, ...]
    first_due_date: date | None = None
    grace_days: int | None = None
    renewal_months: int | None = None
    renewal_window_days: int | None = None
    cycle: tuple[int, int] | None = None  # (month, day)
    active: bool = True


@dataclass(frozen=True)
class Exempt:
    employee_id: int
    requirement_id: int
    starts_on: date
    ends_on: date | None


@dataclass
class World:
    departments: list[Dept] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    completions: list[Done] = field(default_factory=list)
    requirements: list[Req] = field(default_factory=list)
    exemptions: list[Exempt] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    department_id: int
    status: str
    due_date: date
    valid_until: date | None
    covered: bool


@dataclass(frozen=True)
class Rollup:
    in_scope: int
    compliant: int
    due_soon: int
    overdue: int
    pending: int
    exempt: int
    covered: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.covered / self.in_scope, 1) if self.in_scope else None


def months_later(day: date, months: int) -> date:
    """N months after ``day``, clamped to the month's last day (31.08.2025 + 18 = 28.02.2027)."""
    return day + relativedelta(months=months)


def course_valid_until(completed_on: date, validity_months: int | None) -> date | None:
    """The last day a completion counts by its course's validity (None: never expires)."""
    if validity_months is None:
        return None
    return months_later(completed_on, validity_months) - ONE_DAY


def entry_of(person: Person) -> date:
    return person.entry_date if person.entry_date is not None else person.on_staff_since


def first_due(person: Person, requirement: Req) -> date:
    candidates = []
    if requirement.first_due_date is not None:
        candidates.append(requirement.first_due_date)
    if requirement.grace_days is not None:
        candidates.append(entry_of(person) + timedelta(days=requirement.grace_days))
    return max(candidates)


def held_until(
    completions: Iterable[Done], courses: Mapping[int, Course], requirement: Req
) -> date | None:
    """The last day a person's completions (of the requirement's courses) keep them covered;
    None when they hold none, UNLIMITED when one never expires."""
    held: date | None = None
    for done in sorted(completions, key=lambda d: (d.completed_on, d.id)):
        if done.course_id not in requirement.course_ids:
            continue
        ends = [course_valid_until(done.completed_on, courses[done.course_id].validity_months)]
        ends.append(_period_end(done.completed_on, held, requirement))
        known = [end for end in ends if end is not None]
        counts = min(known) if known else UNLIMITED
        held = counts if held is None else max(held, counts)
    return held


def _period_end(completed_on: date, held: date | None, requirement: Req) -> date | None:
    """The requirement's own end of a completion's period (None: no end of its own)."""
    if requirement.cycle is not None:
        month, day = requirement.cycle
        next_cycle_day = date(completed_on.year, month, day)
        if completed_on > next_cycle_day:
            next_cycle_day = date(completed_on.year + 1, month, day)
        return date(next_cycle_day.year + 1, month, day)
    if requirement.renewal_months is None:
        return None
    window = requirement.renewal_window_days
    if (
        held is not None
        and window is not None
        and held - timedelta(days=window) <= completed_on <= held
    ):
        # Renewed early: the next period starts the day after what is held ends.
        return months_later(held + ONE_DAY, requirement.renewal_months) - ONE_DAY
    return months_later(completed_on, requirement.renewal_months) - ONE_DAY


def in_audience(person: Person, requirement: Req, departments: Mapping[int, Dept]) -> bool:
    def matches(rule: Rule) -> bool:
        if rule.kind == "all":
            return True
        if rule.kind == "department":
            return rule.department_id in _ancestors_and_self(person.department_id, departments)
        if rule.kind == "position":
            return (
                person.position is not None
                and rule.position is not None
                and person.position.lower() == rule.position.lower()
            )
        raise ValueError(rule.kind)

    included = any(matches(rule) for rule in requirement.audience if not rule.exclude)
    excluded = any(matches(rule) for rule in requirement.audience if rule.exclude)
    return included and not excluded


def _ancestors_and_self(department_id: int, departments: Mapping[int, Dept]) -> set[int]:
    found: set[int] = set()
    current: int | None = department_id
    while current is not None and current not in found:
        found.add(current)
        current = departments[current].parent_id
    return found


def statuses(world: World, today: date, due_soon_days: int) -> dict[tuple[int, int], Row]:
    """(employee_id, requirement_id) → status row, for everyone in scope on ``today``."""
    departments = {d.id: d for d in world.departments}
    courses = {c.id: c for c in world.courses}
    result: dict[tuple[int, int], Row] = {}
    for person in world.people:
        if not person.active or (person.exit_date is not None and today > person.exit_date):
            continue
        own = [done for done in world.completions if done.employee_id == person.id]
        for requirement in world.requirements:
            if not requirement.active or not in_audience(person, requirement, departments):
                continue
            valid_until = held_until(own, courses, requirement)
            due = first_due(person, requirement)
            if valid_until is not None:
                due = max(due, valid_until)
            exempt = any(
                e.employee_id == person.id
                and e.requirement_id == requirement.id
                and e.starts_on <= today
                and (e.ends_on is None or today <= e.ends_on)
                for e in world.exemptions
            )
            valid = valid_until is not None and valid_until >= today
            if exempt:
                status = "exempt"
            elif due < today:
                status = "overdue"
            elif due <= today + timedelta(days=due_soon_days):
                status = "due_soon"
            elif valid:
                status = "compliant"
            else:
                status = "pending"
            result[person.id, requirement.id] = Row(
                person.department_id, status, due, valid_until, valid and not exempt
            )
    return result


def rollup(
    world: World, rows: Mapping[tuple[int, int], Row]
) -> dict[tuple[int | None, int], Rollup]:
    """(department_id, requirement_id) → counts over the department's subtree, and
    (None, requirement_id) → the whole city; only where someone is in scope or exempt."""
    departments = {d.id: d for d in world.departments}
    counts: dict[tuple[int | None, int], list[int]] = {}
    for (_employee_id, requirement_id), row in rows.items():
        targets: list[int | None] = [*_ancestors_and_self(row.department_id, departments), None]
        for target in targets:
            numbers = counts.setdefault((target, requirement_id), [0] * 7)
            numbers[0] += row.status != "exempt"
            numbers[1 + _ORDER.index(row.status)] += 1
            numbers[6] += row.covered
    return {key: Rollup(*numbers) for key, numbers in counts.items()}


_ORDER = ("compliant", "due_soon", "overdue", "pending", "exempt")

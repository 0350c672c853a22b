"""Every employee's status per requirement, computed in SQL for a whole city or a subtree.

One query yields a row per (employee in scope, requirement): status, the date it is due
(or valid until), and whether a valid completion is held. Reports aggregate those rows with
GROUP BY; nothing loops over employees in Python.

Definitions (``today`` inclusive):
- a completion counts until the earlier of its own ``valid_until`` and, for requirements with
  renewal, ``completed_on + renewal_months - 1 day``; the best one counts;
- first due: the fixed date, or entry date + grace days, whichever is later where both are set;
- due date: the later of first due and the best completion's end;
- exempt while an exemption runs; overdue when the due date has passed; due soon when it comes
  within ``due_soon_days``; compliant when a valid completion is held; pending otherwise
  (in the audience, nothing held yet, not yet due);
- out of scope: not in the audience (exclusions win), inactive, or past the exit date.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Select,
    Subquery,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.orm import aliased, joinedload

from app.core.sql import add_days, add_months, greatest, least, make_date, year_of
from app.core.types import DbSession
from app.courses.models import Completion
from app.requirements.models import (
    AudienceKind,
    AudienceRule,
    Exemption,
    Requirement,
    requirement_courses,
)
from app.staff.models import Department, Employee
from app.staff.services import subtree_condition

#: Stands for "never expires" inside the SQL, so MAX() can compare it.
FOREVER = date(9999, 12, 31)


def never_expires(value: date) -> bool:
    """Whether a due date or end of validity is FOREVER: to be shown as "unlimited", never as
    a date. The whole year counts (no real date lies that far out)."""
    return value.year == FOREVER.year


class Status(enum.StrEnum):
    COMPLIANT = "compliant"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PENDING = "pending"
    EXEMPT = "exempt"


def status_query(
    *,
    today: date,
    due_soon_days: int,
    roots: Sequence[Department] | None = None,
    employee_id: int | None = None,
    requirement_id: int | None = None,
) -> Select[int, int, int, str, date, date, int]:
    """Rows (employee_id, department_id, requirement_id, status, due_date, valid_until, covered)
    for everyone in scope, limited to the subtrees of ``roots`` / one employee / one
    requirement when given."""
    soon = today + timedelta(days=due_soon_days)
    pairs = _scope_pairs(today, roots, employee_id, requirement_id).subquery("scope")
    best = _best_completions(requirement_id, roots, employee_id).subquery("best")
    exempt = (
        select(Exemption.employee_id, Exemption.requirement_id)
        .where(
            Exemption.starts_on <= today,
            or_(Exemption.ends_on.is_(None), Exemption.ends_on >= today),
        )
        .distinct()
        .subquery("exempt")
    )
    employee, requirement = Employee.__table__, Requirement.__table__
    entry = func.coalesce(employee.c.entry_date, requirement.c.first_due_date, literal(today))
    first_due = case(
        (requirement.c.grace_days.is_(None), requirement.c.first_due_date),
        (
            requirement.c.first_due_date.is_(None),
            add_days(entry, requirement.c.grace_days),
        ),
        else_=greatest(requirement.c.first_due_date, add_days(entry, requirement.c.grace_days)),
    )
    due_date = case(
        (best.c.valid_until.is_(None), first_due),
        else_=greatest(best.c.valid_until, first_due),
    )
    covered = and_(best.c.valid_until.is_not(None), best.c.valid_until >= today)
    status = case(
        (exempt.c.employee_id.is_not(None), Status.EXEMPT.value),
        (due_date < today, Status.OVERDUE.value),
        (due_date <= soon, Status.DUE_SOON.value),
        (covered, Status.COMPLIANT.value),
        else_=Status.PENDING.value,
    )
    return (
        select(
            pairs.c.employee_id,
            employee.c.department_id,
            pairs.c.requirement_id,
            status.label("status"),
            type_coerce(due_date, Date).label("due_date"),
            best.c.valid_until.label("valid_until"),
            case((and_(covered, exempt.c.employee_id.is_(None)), 1), else_=0).label("covered"),
        )
        .select_from(pairs)
        .join(employee, employee.c.id == pairs.c.employee_id)
        .join(requirement, requirement.c.id == pairs.c.requirement_id)
        .outerjoin(
            best,
            and_(
                best.c.employee_id == pairs.c.employee_id,
                best.c.requirement_id == pairs.c.requirement_id,
            ),
        )
        .outerjoin(
            exempt,
            and_(
                exempt.c.employee_id == pairs.c.employee_id,
                exempt.c.requirement_id == pairs.c.requirement_id,
            ),
        )
    )


@dataclass(frozen=True)
class PersonStatus:
    employee: Employee
    requirement: Requirement
    status: str
    due_date: date | None
    valid_until: date | None


def people(
    db_session: DbSession,
    *,
    roots: Sequence[Department] | None,
    today: date,
    due_soon_days: int,
    statuses: Sequence[str] = (Status.OVERDUE.value, Status.DUE_SOON.value),
    requirement_id: int | None = None,
    employee_id: int | None = None,
) -> Iterator[PersonStatus]:
    """The people of a scope with the given statuses, soonest due first (streams rows)."""
    rows = status_query(
        today=today,
        due_soon_days=due_soon_days,
        roots=roots,
        requirement_id=requirement_id,
        employee_id=employee_id,
    ).subquery()
    query = (
        select(Employee, Requirement, rows.c.status, rows.c.due_date, rows.c.valid_until)
        .select_from(rows)
        .join(Employee, Employee.id == rows.c.employee_id)
        .join(Requirement, Requirement.id == rows.c.requirement_id)
        .where(rows.c.status.in_(list(statuses)))
        .order_by(rows.c.due_date, Employee.last_name, Employee.first_name)
        .options(joinedload(Employee.department))
    )
    for employee, requirement, status, due_date, valid_until in db_session.execute(
        query.execution_options(yield_per=1000)
    ):
        yield PersonStatus(employee, requirement, status, due_date, valid_until)


def _scope_pairs(
    today: date,
    roots: Sequence[Department] | None,
    employee_id: int | None,
    requirement_id: int | None,
) -> Select[int, int]:
    """(employee_id, requirement_id) of everyone in an audience and not excluded from it."""
    included = _audience_pairs(False, today, roots, employee_id, requirement_id).subquery("inc")
    excluded = _audience_pairs(True, today, roots, employee_id, requirement_id).subquery("exc")
    return select(included.c.employee_id, included.c.requirement_id).where(
        ~exists().where(
            excluded.c.employee_id == included.c.employee_id,
            excluded.c.requirement_id == included.c.requirement_id,
        )
    )


def _audience_pairs(
    exclude: bool,
    today: date,
    roots: Sequence[Department] | None,
    employee_id: int | None,
    requirement_id: int | None,
) -> CompoundSelect[int, int]:
    rule_department = aliased(Department)
    base_filters = [
        AudienceRule.exclude.is_(exclude),
        Requirement.active.is_(True),
        Employee.active.is_(True),
        or_(Employee.exit_date.is_(None), Employee.exit_date >= today),
    ]
    if roots is not None:
        base_filters.append(subtree_condition(roots))
    if employee_id is not None:
        base_filters.append(Employee.id == employee_id)
    if requirement_id is not None:
        base_filters.append(Requirement.id == requirement_id)

    def branch(kind: AudienceKind, match: ColumnElement[bool]) -> Select[int, int]:
        query = (
            select(Employee.id.label("employee_id"), AudienceRule.requirement_id)
            .select_from(AudienceRule)
            .join(Requirement, Requirement.id == AudienceRule.requirement_id)
            .join(Employee, match)
            .join(Department, Department.id == Employee.department_id)
            .where(AudienceRule.kind == kind.value, *base_filters)
        )
        if kind is AudienceKind.DEPARTMENT:
            query = query.join(
                rule_department, rule_department.id == AudienceRule.department_id
            ).where(Department.path.like(rule_department.path + "%"))
        return query

    return union(
        branch(AudienceKind.ALL, true()),
        branch(AudienceKind.DEPARTMENT, true()),
        branch(
            AudienceKind.POSITION,
            func.lower(Employee.position) == func.lower(AudienceRule.position),
        ),
    )


def _best_completions(
    requirement_id: int | None, roots: Sequence[Department] | None, employee_id: int | None
) -> Select[int, int, date]:
    """Per (employee, requirement): the last day its best completion counts (only for the
    people asked about: one employee's page must not aggregate the whole city's history)."""
    requirement = Requirement.__table__

    def history(previous: ColumnElement[date], with_window: bool) -> Select[*tuple[Any, ...]]:
        query = (
            select(
                Completion.employee_id,
                requirement_courses.c.requirement_id,
                Completion.completed_on,
                Completion.valid_until,
                requirement.c.renewal_months,
                requirement.c.renewal_window_days,
                requirement.c.cycle_month,
                requirement.c.cycle_day,
                previous.label("previous"),
            )
            .join(requirement_courses, requirement_courses.c.course_id == Completion.course_id)
            .join(requirement, requirement.c.id == requirement_courses.c.requirement_id)
            .where(
                requirement.c.renewal_window_days.is_not(None)
                if with_window
                else requirement.c.renewal_window_days.is_(None)
            )
        )
        if requirement_id is not None:
            query = query.where(requirement_courses.c.requirement_id == requirement_id)
        if employee_id is not None:
            query = query.where(Completion.employee_id == employee_id)
        elif roots is not None:
            query = query.where(
                Completion.employee_id.in_(
                    select(Employee.id)
                    .join(Department, Department.id == Employee.department_id)
                    .where(subtree_condition(roots))
                )
            )
        return query

    # The previous completion matters only with a renewal window; sorting a city's history
    # for the others would cost a third of the report's time.
    previous = func.lag(Completion.completed_on).over(
        partition_by=(Completion.employee_id, requirement_courses.c.requirement_id),
        order_by=Completion.completed_on,
    )
    h = union_all(
        history(cast(null(), Date), with_window=False), history(previous, with_window=True)
    ).subquery("history")
    own_end = func.coalesce(h.c.valid_until, literal(FOREVER, Date))
    period_end = _period_end(h)
    # LEAST keeps the period's end expression written (and computed) once per row.
    counts_until = least(own_end, func.coalesce(period_end, own_end))
    return select(
        h.c.employee_id,
        h.c.requirement_id,
        type_coerce(func.max(counts_until), Date).label("valid_until"),
    ).group_by(h.c.employee_id, h.c.requirement_id)


def _period_end(h: Subquery) -> ColumnElement[date | None]:
    """When a completion's renewal period ends: months after it (or, renewed inside the window
    before the previous period ended, months after that end), or the yearly cycle day a year
    after the next one; None without renewal."""
    months = h.c.renewal_months
    previous_end = add_days(add_months(h.c.previous, months), -1)
    early_renewal = and_(
        h.c.renewal_window_days.is_not(None),
        h.c.previous.is_not(None),
        h.c.completed_on <= previous_end,
        h.c.completed_on >= add_days(previous_end, -h.c.renewal_window_days),
    )
    cycle_this_year = make_date(year_of(h.c.completed_on), h.c.cycle_month, h.c.cycle_day)
    next_cycle_day = case(
        (h.c.completed_on <= cycle_this_year, cycle_this_year),
        else_=add_months(cycle_this_year, 12),
    )
    return case(
        (h.c.cycle_month.is_not(None), add_months(next_cycle_day, 12)),
        (months.is_(None), None),
        (early_renewal, add_days(add_months(add_days(previous_end, 1), months), -1)),
        else_=add_days(add_months(h.c.completed_on, months), -1),
    )

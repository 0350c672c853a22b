"""Every employee's status per requirement on a given day, for a whole city or a subtree.

The dates a status depends on are kept per person and requirement in ``coverage_facts``
(``app.requirements.facts`` computes and maintains them; the rules are in the README). A
status then only compares dates, so one query yields a row per (employee in scope,
requirement): status, the date it is due (or valid until), and whether a valid completion is
held. Reports aggregate those rows with GROUP BY; nothing loops over employees in Python.

On ``today`` (inclusive): exempt while an exemption runs; overdue when the due date has
passed; due soon when it comes within ``due_soon_days``; compliant when a valid completion is
held; pending otherwise (nothing held yet, not yet due). Out of scope: not in the audience
(exclusions win), inactive, or after the exit date (the exit date itself is the last day).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from sqlalchemy import ColumnElement, FromClause, Select, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import contains_eager

from app.core.paging import Page, page_of
from app.core.types import DbSession
from app.requirements.facts import FOREVER, EmployeeFilter, fact_query
from app.requirements.models import CoverageFact, Exemption, Requirement
from app.staff.models import Department, Employee
from app.staff.services import employee_matches, subtree_id_list, subtree_ids

__all__ = [
    "FOREVER",
    "MEASURES",
    "PersonStatus",
    "Status",
    "exempt_pairs",
    "live_status_query",
    "measures",
    "statuses_of",
    "people",
    "people_page",
    "status_query",
]


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
    today: date | ColumnElement[date],
    due_soon_days: int,
    roots: Sequence[Department] | None = None,
    employee_id: int | ColumnElement[int] | None = None,
    requirement_id: int | None = None,
    department_ids: Sequence[int] | None = None,
    soon: date | ColumnElement[date] | None = None,
) -> Select[int, int, int, str, date, date, int]:
    """Rows (employee_id, department_id, requirement_id, status, due_date, valid_until, covered)
    for everyone in scope, limited to the subtrees of ``roots`` (or, already looked up, the
    ``department_ids`` of those subtrees) / one employee / one requirement when given; read
    from the kept coverage facts. ``today``, ``soon`` and ``employee_id`` may be bound
    parameters (a statement built once, see ``statuses_of``)."""
    facts = CoverageFact.__table__
    filters: list[ColumnElement[bool]] = [
        facts.c.requirement_id.in_(select(Requirement.id).where(Requirement.active.is_(True)))
    ]
    if department_ids is not None:
        filters.append(facts.c.department_id.in_(list(department_ids)))
    elif roots is not None:
        filters.append(facts.c.department_id.in_(subtree_ids(roots)))
    if employee_id is not None:
        filters.append(facts.c.employee_id == employee_id)
    if requirement_id is not None:
        filters.append(facts.c.requirement_id == requirement_id)
    return statuses_of(facts, today, due_soon_days, filters, soon=soon)


def live_status_query(
    *,
    today: date,
    due_soon_days: int,
    roots: Sequence[Department] | None = None,
    employee_id: int | None = None,
    requirement_id: int | None = None,
) -> Select[int, int, int, str, date, date, int]:
    """The same rows computed from the data itself, not from the kept facts (to check them)."""
    employees: EmployeeFilter | None = None
    if employee_id is not None:
        employees = partial(_is, employee_id)
    elif roots is not None:
        employees = partial(_in_subtrees, list(roots))
    facts = fact_query(
        employees=employees,
        requirement_ids=None if requirement_id is None else [requirement_id],
    ).subquery("live_facts")
    return statuses_of(facts, today, due_soon_days, [])


def _is(employee_id: int, column: ColumnElement[int]) -> ColumnElement[bool]:
    return column == employee_id


def _in_subtrees(roots: list[Department], column: ColumnElement[int]) -> ColumnElement[bool]:
    return column.in_(select(Employee.id).where(Employee.department_id.in_(subtree_ids(roots))))


def exempt_pairs(today: date | ColumnElement[date]) -> Subquery:
    """(employee_id, requirement_id) of the exemptions running on ``today``."""
    return (
        select(Exemption.employee_id, Exemption.requirement_id)
        .where(
            Exemption.starts_on <= today,
            or_(Exemption.ends_on.is_(None), Exemption.ends_on >= today),
        )
        .distinct()
        .subquery("exempt")
    )


def due_soon_until(today: date, due_soon_days: int) -> date:
    """The last due date that counts as due soon on ``today``."""
    return today + timedelta(days=due_soon_days)


def statuses_of(
    facts: FromClause,
    today: date | ColumnElement[date],
    due_soon_days: int,
    filters: list[ColumnElement[bool]],
    *,
    exemptions: bool = True,
    soon: date | ColumnElement[date] | None = None,
) -> Select[int, int, int, str, date, date, int]:
    """Each fact's status on ``today``: only dates are compared. Without ``exemptions``, the
    status a person would have without them (what ``coverage_counts`` keeps). Due soon means
    due by ``soon``, ``due_soon_days`` after ``today`` unless given: a statement built once
    passes both as bound parameters (then ``due_soon_days`` is not used)."""
    if soon is None:
        if not isinstance(today, date):
            raise TypeError("a bound parameter for today needs one for soon")
        soon = due_soon_until(today, due_soon_days)
    covered = and_(facts.c.valid_until.is_not(None), facts.c.valid_until >= today)
    whens: list[tuple[ColumnElement[bool], str]] = [
        (facts.c.due_on < today, Status.OVERDUE.value),
        (facts.c.due_on <= soon, Status.DUE_SOON.value),
        (covered, Status.COMPLIANT.value),
    ]
    counts_as_covered: ColumnElement[bool] = covered
    exempt = exempt_pairs(today)
    if exemptions:
        whens.insert(0, (exempt.c.employee_id.is_not(None), Status.EXEMPT.value))
        counts_as_covered = and_(covered, exempt.c.employee_id.is_(None))
    query = select(
        facts.c.employee_id,
        facts.c.department_id,
        facts.c.requirement_id,
        case(*whens, else_=Status.PENDING.value).label("status"),
        facts.c.due_on.label("due_date"),
        facts.c.valid_until.label("valid_until"),
        case((counts_as_covered, 1), else_=0).label("covered"),
    ).select_from(facts)
    if exemptions:
        query = query.outerjoin(
            exempt,
            and_(
                exempt.c.employee_id == facts.c.employee_id,
                exempt.c.requirement_id == facts.c.requirement_id,
            ),
        )
    return query.where(or_(facts.c.exit_date.is_(None), facts.c.exit_date >= today), *filters)


#: The counts of a coverage row per department and requirement, in this order.
MEASURES = ("in_scope", "compliant", "due_soon", "overdue", "pending", "exempt", "covered")


def measures(rows: FromClause) -> tuple[ColumnElement[int], ...]:
    """The MEASURES as sums over status rows (for a GROUP BY); exempt people are not in scope."""

    def count(status: Status) -> ColumnElement[int]:
        return func.sum(case((rows.c.status == status.value, 1), else_=0))

    return (
        func.sum(case((rows.c.status != Status.EXEMPT.value, 1), else_=0)),
        count(Status.COMPLIANT),
        count(Status.DUE_SOON),
        count(Status.OVERDUE),
        count(Status.PENDING),
        count(Status.EXEMPT),
        func.sum(rows.c.covered),
    )


@dataclass(frozen=True)
class PersonStatus:
    employee: Employee
    requirement: Requirement
    status: str
    due_date: date | None
    valid_until: date | None


def people_ids(
    db_session: DbSession,
    *,
    roots: Sequence[Department] | None,
    today: date,
    due_soon_days: int,
    statuses: Sequence[str],
) -> Select[int]:
    """A SELECT of the ids of the people ``people`` lists (for the access log: one
    ``INSERT … SELECT``, however large the scope)."""
    rows = status_query(
        today=today,
        due_soon_days=due_soon_days,
        department_ids=None if roots is None else subtree_id_list(db_session, roots),
    ).subquery()
    return select(rows.c.employee_id).where(rows.c.status.in_(list(statuses)))


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
    query = _people_query(
        db_session,
        roots=roots,
        today=today,
        due_soon_days=due_soon_days,
        statuses=statuses,
        requirement_id=requirement_id,
        employee_id=employee_id,
    )
    for row in db_session.execute(query.execution_options(yield_per=1000)):
        yield PersonStatus(*row)


def people_page(
    db_session: DbSession,
    *,
    roots: Sequence[Department] | None,
    today: date,
    due_soon_days: int,
    statuses: Sequence[str],
    number: int,
    per_page: int,
    requirement_id: int | None = None,
    text: str = "",
) -> Page[PersonStatus] | None:
    """One page of ``people`` (and how many rows there are), narrowed to those whose name,
    personnel number, e-mail or department contains ``text``; None beyond the last page."""
    query = _people_query(
        db_session,
        roots=roots,
        today=today,
        due_soon_days=due_soon_days,
        statuses=statuses,
        requirement_id=requirement_id,
    )
    if text.strip():
        query = query.where(employee_matches(text, with_department=True))
    page = page_of(db_session, query, number=number, per_page=per_page)
    if page is None:
        return None
    return Page([PersonStatus(*row) for row in page.items], page.number, per_page, page.total)


def _people_query(
    db_session: DbSession,
    *,
    roots: Sequence[Department] | None,
    today: date,
    due_soon_days: int,
    statuses: Sequence[str],
    requirement_id: int | None = None,
    employee_id: int | None = None,
) -> Select[Employee, Requirement, str, date, date]:
    rows = status_query(
        today=today,
        due_soon_days=due_soon_days,
        department_ids=None if roots is None else subtree_id_list(db_session, roots),
        requirement_id=requirement_id,
        employee_id=employee_id,
    ).subquery()
    return (
        select(Employee, Requirement, rows.c.status, rows.c.due_date, rows.c.valid_until)
        .select_from(rows)
        .join(Employee, Employee.id == rows.c.employee_id)
        .join(Employee.department)
        .join(Requirement, Requirement.id == rows.c.requirement_id)
        .where(rows.c.status.in_(list(statuses)))
        .order_by(
            rows.c.due_date,
            Employee.last_name,
            Employee.first_name,
            Employee.id,
            Requirement.id,
        )
        .options(contains_eager(Employee.department))
    )

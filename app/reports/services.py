"""Coverage (Schulungsquote): status rows aggregated in SQL per department and requirement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.core.paging import Page, page_of_list
from app.core.types import DbSession
from app.reports.models import CoverageSnapshot
from app.requirements import counts
from app.requirements.models import Requirement
from app.requirements.status import MEASURES
from app.staff.models import Department
from app.staff.services import department_scope, list_roots


@dataclass(frozen=True)
class CoverageRow:
    department: Department | None  # None: all departments of the scope together
    requirement: Requirement
    in_scope: int  # exempt people not counted
    compliant: int
    due_soon: int
    overdue: int
    pending: int
    exempt: int
    covered: int  # hold a valid completion (compliant, or due soon but still valid)

    @property
    def coverage_percent(self) -> float | None:
        """Coverage: those holding a valid completion, also when it is due soon."""
        return percent_covered(self.covered, self.in_scope)

    @property
    def on_time(self) -> int:
        """ "Fristgerecht": holding a valid completion that is not due soon. That is exactly
        the status compliant (counted in the same aggregate query): a held completion is valid
        until at least its due date, so it is due soon or compliant; exempt people are neither
        here nor in the denominator, as for coverage."""
        return self.compliant

    @property
    def on_time_percent(self) -> float | None:
        return percent_covered(self.on_time, self.in_scope)


def coverage(
    db_session: DbSession,
    *,
    departments: Sequence[Department],
    scope_roots: Sequence[Department] | None,
    today: date,
    due_soon_days: int,
    with_total: bool = True,
) -> list[CoverageRow]:
    """Coverage of each given department (with everything below it) per requirement, plus a
    total over the scope, in one query.

    People are counted per own department first, then those few thousand sums are rolled up
    the tree: joining every person's row to the departments above it would cost far more."""
    per_department = counts.per_department(
        db_session, today=today, due_soon_days=due_soon_days, roots=scope_roots
    )
    requirements = {r.id: r for r in db_session.scalars(select(Requirement))}
    result: list[CoverageRow] = []
    if departments:
        member = aliased(Department)
        target = aliased(Department)
        by_id = {d.id: d for d in departments}
        query = (
            select(
                target.id,
                per_department.c.requirement_id,
                *(func.sum(per_department.c[name]) for name in MEASURES),
            )
            .select_from(per_department)
            .join(member, member.id == per_department.c.department_id)
            .join(target, member.path.like(target.path + "%"))
            .where(target.id.in_(list(by_id)))
            .group_by(target.id, per_department.c.requirement_id)
        )
        for department_id, requirement_id, *numbers in db_session.execute(query):
            result.append(
                CoverageRow(
                    by_id[department_id],
                    requirements[requirement_id],
                    *(int(n or 0) for n in numbers),  # PostgreSQL sums to NUMERIC
                )
            )
    if with_total:
        result += _totals(result, departments)
    order = {d.id: n for n, d in enumerate(departments)}
    result.sort(
        key=lambda r: (
            r.requirement.name,
            -1 if r.department is None else order[r.department.id],
        )
    )
    return result


class ReportScope(NamedTuple):
    """Whom a report counts, and which departments it shows as rows."""

    roots: list[Department] | None  # compute over these subtrees; None: the whole city
    rows_for: list[Department]


def percent_covered(covered: int, in_scope: int) -> float | None:
    """Covered people as a percentage of those in scope, to one decimal; None for nobody."""
    return round(100 * covered / in_scope, 1) if in_scope else None


def scope_for(db_session: DbSession, user: User, department: Department | None) -> ReportScope:
    """The scope of a report for ``user``: a chosen department and its children, else the
    user's whole scope (HR: the city's top departments; a head: the departments they head,
    each with its children)."""
    return scope_of(db_session, department, department_scope(user))


def scope_of(
    db_session: DbSession, department: Department | None, scope: list[Department] | None
) -> ReportScope:
    """The same for a given scope (None: the whole city), e.g. for a command without a user."""
    if department is not None:
        return ReportScope([department], [department, *department.children])
    if scope is None:
        return ReportScope(None, list_roots(db_session))
    return ReportScope(scope, [shown for root in scope for shown in (root, *root.children)])


def page_of_departments(
    departments: Sequence[Department], *, number: int, per_page: int
) -> tuple[list[Department], Page[Department]] | None:
    """The departments of a report's rows that one page shows: the top-most ones (the scope's
    areas, whose rows make the totals) always, their sub-departments ``per_page`` at a time,
    each where it stood; and that page of sub-departments. None beyond the last page."""
    tops = _top_most(departments)
    page = page_of_list(
        [d for d in departments if d.id not in tops], number=number, per_page=per_page
    )
    if page is None:
        return None
    shown = tops | {d.id for d in page.items}
    return [d for d in departments if d.id in shown], page


def overview(by_requirement: Mapping[Requirement, Sequence[CoverageRow]]) -> list[CoverageRow]:
    """One row per requirement for the whole scope: its total row, or the chosen department's
    own row (``coverage`` puts that first)."""
    return [rows[0] for rows in by_requirement.values() if rows]


def _totals(rows: list[CoverageRow], departments: Sequence[Department]) -> list[CoverageRow]:
    """The scope's total per requirement: the sum over the top-most departments shown (they
    cover the scope: the city's roots, or a head's departments), without a second query."""
    tops = _top_most(departments)
    if len(tops) < 2:  # one area: its own row is the total
        return []
    requirements: dict[int, Requirement] = {}
    sums: dict[int, list[int]] = {}
    for row in rows:
        if row.department is not None and row.department.id in tops:
            requirements[row.requirement.id] = row.requirement
            numbers = sums.setdefault(row.requirement.id, [0] * len(MEASURES))
            for index, value in enumerate(_numbers(row)):
                numbers[index] += value
    return [CoverageRow(None, requirements[rid], *numbers) for rid, numbers in sums.items()]


def _top_most(departments: Sequence[Department]) -> set[int]:
    """The ids of those of ``departments`` with none of the others above them."""
    paths = {d.path for d in departments}
    return {d.id for d in departments if not any(p in paths for p in _ancestor_paths(d.path))}


def _ancestor_paths(path: str) -> list[str]:
    """ "/1/5/9/" -> ["/1/", "/1/5/"]: the paths of the departments above."""
    ids = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(ids[: n + 1]) + "/" for n in range(len(ids))]


def _numbers(row: CoverageRow) -> tuple[int, ...]:
    return (
        row.in_scope,
        row.compliant,
        row.due_soon,
        row.overdue,
        row.pending,
        row.exempt,
        row.covered,
    )


@dataclass(frozen=True)
class TrendPoint:
    taken_on: date
    in_scope: int
    covered: int

    @property
    def coverage_percent(self) -> float | None:
        return percent_covered(self.covered, self.in_scope)


def take_snapshot(db_session: DbSession, *, today: date, due_soon_days: int) -> int:
    """Store today's coverage of every department and of the city; once per day (idempotent)."""
    if db_session.scalar(select(CoverageSnapshot.id).where(CoverageSnapshot.taken_on == today)):
        return 0
    departments = list(db_session.scalars(select(Department)))
    rows = coverage(
        db_session,
        departments=departments,
        scope_roots=None,
        today=today,
        due_soon_days=due_soon_days,
    )
    db_session.add_all(
        CoverageSnapshot(
            taken_on=today,
            department_id=row.department.id if row.department else None,
            requirement_id=row.requirement.id,
            in_scope=row.in_scope,
            covered=row.covered,
            overdue=row.overdue,
            due_soon=row.due_soon,
            exempt=row.exempt,
        )
        for row in rows
    )
    db_session.flush()
    return len(rows)


def trend(
    db_session: DbSession, *, department: Department | None, requirement_ids: Sequence[int]
) -> dict[int, list[TrendPoint]]:
    """The stored snapshots of one department (None: the city) per requirement, oldest first."""
    where = (
        CoverageSnapshot.department_id.is_(None)
        if department is None
        else CoverageSnapshot.department_id == department.id
    )
    result: dict[int, list[TrendPoint]] = {rid: [] for rid in requirement_ids}
    for snapshot in db_session.scalars(
        select(CoverageSnapshot)
        .where(where, CoverageSnapshot.requirement_id.in_(list(requirement_ids)))
        .order_by(CoverageSnapshot.taken_on)
    ):
        result[snapshot.requirement_id].append(
            TrendPoint(snapshot.taken_on, snapshot.in_scope, snapshot.covered)
        )
    return result

"""The staff council's figures: coverage of the city and of each department, never a name.

A department whose people are fewer than the minimum group size is not shown on its own: its
numbers are added to the department above it, which is shown if the sum is large enough and
otherwise merged further up. Each shown row therefore counts a department's own staff with
the smaller units below it, the rows are disjoint, and they add up to the city. Small top-level
departments are counted as "smaller areas together"; should that group itself be small, the
smallest shown row joins it, so no small group can be read as the city minus the other rows.

The counting is the coverage pages' own (``counts.per_department``, in SQL); merging works on
those per-department sums, never on people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

from sqlalchemy import select

from app.core.types import DbSession
from app.reports.services import CoverageRow
from app.requirements import counts
from app.requirements.models import Requirement
from app.requirements.status import MEASURES
from app.staff.models import Department

#: Positions in MEASURES of the people a requirement applies to: in scope and exempt.
_IN_SCOPE, _EXEMPT = MEASURES.index("in_scope"), MEASURES.index("exempt")

Numbers = list[int]


class AreaRow(NamedTuple):
    """A row of the council's table: the city, a department (``merged``: with smaller units
    below it counted in), or the smaller areas together."""

    row: CoverageRow
    kind: Literal["city", "department", "merged", "others"]


@dataclass(frozen=True)
class ProtectedCoverage:
    """One requirement's figures as the staff council sees them."""

    requirement: Requirement
    city: CoverageRow  # the whole city (department None), always shown
    departments: list[CoverageRow]  # each: its own staff and the smaller units merged in
    merged_into: set[int]  # ids of the departments whose row includes smaller units
    others: CoverageRow | None  # small top-level areas together (department None)
    min_group_size: int

    @property
    def city_too_small(self) -> bool:
        return self.city.in_scope + self.city.exempt < self.min_group_size

    def area_rows(self) -> list[AreaRow]:
        """The rows as shown: the city first, the departments in tree order, the others."""
        rows = [AreaRow(self.city, "city")]
        rows += [
            AreaRow(row, "merged" if row.department.id in self.merged_into else "department")
            for row in self.departments
            if row.department is not None
        ]
        if self.others is not None:
            rows.append(AreaRow(self.others, "others"))
        return rows


def protected_coverage(
    db_session: DbSession, *, today: date, due_soon_days: int, min_group_size: int
) -> list[ProtectedCoverage]:
    """The figures of every active requirement with people in scope, by requirement name."""
    per_department = counts.per_department(
        db_session, today=today, due_soon_days=due_soon_days, roots=None
    )
    own: dict[int, dict[int, Numbers]] = {}
    for department_id, requirement_id, *values in db_session.execute(select(per_department)):
        own.setdefault(requirement_id, {})[department_id] = [int(v or 0) for v in values]
    if not own:
        return []
    departments = {d.id: d for d in db_session.scalars(select(Department))}
    parents = {d.id: d.parent_id for d in departments.values()}
    deepest_first = [d.id for d in sorted(departments.values(), key=lambda d: -d.depth)]
    tree_order = {d.id: d.path for d in departments.values()}
    requirements = db_session.scalars(
        select(Requirement).where(Requirement.id.in_(list(own))).order_by(Requirement.name)
    )
    result = []
    for requirement in requirements:
        groups = own[requirement.id]
        shown, merged_into, others = merge_small_groups(
            groups, parents, depth_first=deepest_first, minimum=min_group_size
        )
        city = [sum(column) for column in zip(*groups.values(), strict=True)]
        result.append(
            ProtectedCoverage(
                requirement=requirement,
                city=CoverageRow(None, requirement, *city),
                departments=[
                    CoverageRow(departments[i], requirement, *shown[i])
                    for i in sorted(shown, key=tree_order.__getitem__)
                ],
                merged_into=merged_into & set(shown),
                # With no department shown, the others are the city itself.
                others=CoverageRow(None, requirement, *others)
                if group_size(others) and shown
                else None,
                min_group_size=min_group_size,
            )
        )
    return result


def merge_small_groups(
    own: Mapping[int, Sequence[int]],
    parents: Mapping[int, int | None],
    *,
    depth_first: Sequence[int],
    minimum: int,
) -> tuple[dict[int, Numbers], set[int], Numbers]:
    """(shown groups by department id, ids of departments that took in smaller ones, the
    smaller areas together) from each department's own numbers (in the order of MEASURES).

    ``depth_first`` lists every department, the deepest first, so a unit is settled before
    the one above it."""
    groups = {i: list(values) for i, values in own.items() if group_size(values)}
    merged_into: set[int] = set()
    others = [0] * len(MEASURES)
    for department_id in depth_first:
        values = groups.get(department_id)
        if values is None or group_size(values) >= minimum:
            continue
        del groups[department_id]
        parent_id = parents[department_id]
        if parent_id is None:
            _add(others, values)
        else:
            _add(groups.setdefault(parent_id, [0] * len(MEASURES)), values)
            merged_into.add(parent_id)
    # The city minus the shown rows is "others": it must not be a small group either.
    while 0 < group_size(others) < minimum and groups:
        smallest = min(groups, key=lambda i: (group_size(groups[i]), i))
        _add(others, groups.pop(smallest))
    return groups, merged_into, others


def group_size(values: Sequence[int]) -> int:
    """The people a group's numbers describe: in scope, and exempt (as ``city_too_small``)."""
    return values[_IN_SCOPE] + values[_EXEMPT]


def _add(total: Numbers, values: Sequence[int]) -> None:
    for index, value in enumerate(values):
        total[index] += value

"""Coverage counts per department and requirement for one day, kept beside the facts.

HR's city page sums every person's status for every requirement: at a Land's size tens of
millions of ``coverage_facts`` rows per request. ``coverage_counts`` holds, for today, how
many people of each department have which status for each requirement, leaving exemptions
aside:

- a Celery task builds a day's counts from the facts (``build``; the beat starts it every few
  minutes, a no-op once the day is built, so a new day is counted shortly after midnight),
  holding every facts lock so that no rewrite of facts runs meanwhile;
- every rewrite of facts (``facts._rewrite``) adds the difference it makes to the kept days'
  counts in the same transaction: the counts of the people rewritten before and after, one
  upsert in key order (two writers never wait for each other in opposite orders);
- exemptions are few and change the status without changing facts: reading joins those
  running on the day and moves their people from their status to "exempt".

Without counts for the day asked (another day, another due-soon window, not built yet),
``per_department`` aggregates the facts directly: slower, the same result.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Subquery,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from app.core.types import DbSession
from app.requirements.facts import (
    FACT_COLUMNS,
    EmployeeFilter,
    lock_all_people,
    people_rewrite,
)
from app.requirements.models import CoverageCount, CoverageCountDay, CoverageFact, Requirement
from app.requirements.status import MEASURES, exempt_pairs, measures, status_query, statuses_of
from app.staff.models import Department
from app.staff.services import subtree_id_list

#: Counts per (day, department_id, requirement_id), in the order of MEASURES.
Tally = dict[tuple[date, int, int], list[int]]

_COUNTS = CoverageCount.__table__
_FACTS = CoverageFact.__table__


def counted_days(db_session: DbSession) -> list[tuple[date, int]]:
    """The days kept (with their due-soon window): normally today's only."""
    return [
        (day, due_soon_days)
        for day, due_soon_days in db_session.execute(
            select(CoverageCountDay.day, CoverageCountDay.due_soon_days).order_by(
                CoverageCountDay.day
            )
        )
    ]


def is_built(db_session: DbSession, day: date, due_soon_days: int) -> bool:
    return (day, due_soon_days) in counted_days(db_session)


def build(db_session: DbSession, *, day: date, due_soon_days: int, again: bool = False) -> bool:
    """Count ``day`` from the facts and drop every other day, in one transaction; False when
    it was counted already (safe to run twice, and on several workers at once) unless
    ``again`` (after a full rebuild of the facts)."""
    if not again and is_built(db_session, day, due_soon_days):
        return False
    lock_all_people(db_session)  # no rewrite of facts between counting and keeping
    if not again and is_built(db_session, day, due_soon_days):  # another worker was first
        db_session.rollback()
        return False
    db_session.execute(delete(CoverageCount))
    db_session.execute(delete(CoverageCountDay))
    db_session.add(CoverageCountDay(day=day, due_soon_days=due_soon_days))
    db_session.flush()
    counted = _counted(day, due_soon_days, []).subquery("counted")
    db_session.execute(
        insert(CoverageCount).from_select(
            ["day", "department_id", "requirement_id", *MEASURES],
            select(
                literal(day, Date),
                counted.c.department_id,
                counted.c.requirement_id,
                *(counted.c[name] for name in MEASURES),
            ),
        )
    )
    db_session.commit()
    return True


def recount(db_session: DbSession) -> None:
    """Count the kept day again from the facts (after a full rebuild repaired them)."""
    for day, due_soon_days in counted_days(db_session)[-1:]:
        build(db_session, day=day, due_soon_days=due_soon_days, again=True)
    db_session.commit()  # ends the reading transaction too (SQLite: it holds the write lock)


def _counted(day: date, due_soon_days: int, filters: list[ColumnElement[bool]]) -> Select[Any]:
    """What the counts of ``day`` hold for the facts matching ``filters``."""
    rows = statuses_of(_FACTS, day, due_soon_days, filters, exemptions=False).subquery()
    return select(
        rows.c.department_id,
        rows.c.requirement_id,
        *(measure.label(name) for name, measure in zip(MEASURES, measures(rows), strict=True)),
    ).group_by(rows.c.department_id, rows.c.requirement_id)


# --- keeping them with the facts ----------------------------------------------------------


def tally(
    db_session: DbSession,
    days: Sequence[tuple[date, int]],
    employees: EmployeeFilter,
    requirement_ids: Collection[int] | None,
) -> Tally:
    """What these people's facts add to the counts of the kept days, as they are now."""
    filters = [employees(_FACTS.c.employee_id)]
    if requirement_ids is not None:
        filters.append(_FACTS.c.requirement_id.in_(list(requirement_ids)))
    result: Tally = {}
    for day, due_soon_days in days:
        for department_id, requirement_id, *numbers in db_session.execute(
            _counted(day, due_soon_days, filters)
        ):
            result[(day, department_id, requirement_id)] = [int(n or 0) for n in numbers]
    return result


def tally_people(
    db_session: DbSession,
    days: Sequence[tuple[date, int]],
    employee_ids: Sequence[int],
    requirement_ids: Collection[int] | None,
) -> Tally:
    """``tally`` of these people (by id), through a statement built once per day: building
    the status expression took longer than the database needs for one person."""
    parameters: dict[str, list[int]] = {"tally_people": list(employee_ids)}
    if requirement_ids is not None:
        parameters["tally_requirements"] = list(requirement_ids)
    result: Tally = {}
    for day, due_soon_days in days:
        statement = _people_counted(day, due_soon_days, requirement_ids is not None)
        for department_id, requirement_id, *numbers in db_session.execute(statement, parameters):
            result[(day, department_id, requirement_id)] = [int(n or 0) for n in numbers]
    return result


@lru_cache(maxsize=16)
def _people_counted(day: date, due_soon_days: int, some_requirements: bool) -> Select[Any]:
    filters: list[ColumnElement[bool]] = [
        _FACTS.c.employee_id.in_(bindparam("tally_people", expanding=True))
    ]
    if some_requirements:
        filters.append(_FACTS.c.requirement_id.in_(bindparam("tally_requirements", expanding=True)))
    return _counted(day, due_soon_days, filters)


def rewrite_people(
    db_session: DbSession,
    days: Sequence[tuple[date, int]],
    parameters: dict[str, list[int]],
) -> int:
    """PostgreSQL: rewrite some people's facts (``facts.people_rewrite``'s parameters) and
    add the difference to the kept days' counts in one statement: the rows deleted and
    inserted are counted as they go (data-modifying CTEs), instead of a tally before, a
    DELETE, an INSERT, a tally after and an upsert. Returns how many rows were written."""
    statement = _rewritten_and_counted(tuple(days), "requirement_ids" in parameters)
    return int(db_session.execute(statement, parameters).scalar_one())


@lru_cache(maxsize=16)
def _rewritten_and_counted(days: tuple[tuple[date, int], ...], some_requirements: bool) -> Any:
    stale, _fresh, people_facts = people_rewrite(some_requirements)
    gone = stale.returning(*_FACTS.c).cte("gone")
    # The sub-statements of a WITH run in no fixed order: the INSERT reads the DELETE's
    # count first (an InitPlan, evaluated before its first row), so the old rows are gone.
    deleted = select(func.count()).select_from(gone).scalar_subquery()
    after_deleting = people_facts.where(deleted >= 0)
    written = (
        insert(CoverageFact)
        .from_select(list(FACT_COLUMNS), after_deleting)
        .returning(*_FACTS.c)
        .cte("written")
    )
    parts = []
    for day, due_soon_days in days:
        for rows_of, sign in ((written, 1), (gone, -1)):
            rows = statuses_of(rows_of, day, due_soon_days, [], exemptions=False).subquery()
            parts.append(
                select(
                    literal(day, Date).label("day"),
                    rows.c.department_id,
                    rows.c.requirement_id,
                    *(
                        (measure * sign).label(name)
                        for name, measure in zip(MEASURES, measures(rows), strict=True)
                    ),
                ).group_by(rows.c.department_id, rows.c.requirement_id)
            )
    together = union_all(*parts).subquery("together")
    key = (together.c.day, together.c.department_id, together.c.requirement_id)
    sums = [func.sum(together.c[name]) for name in MEASURES]
    difference = (
        select(*key, *(total.label(name) for name, total in zip(MEASURES, sums, strict=True)))
        .group_by(*key)
        .having(or_(*(total != 0 for total in sums)))
        .order_by(*key)  # key order, as add_difference: writers never wait in a circle
    )
    upsert = _adding_to_counts(
        postgresql.insert(CoverageCount).from_select(
            ["day", "department_id", "requirement_id", *MEASURES], difference
        )
    )
    return select(func.count()).select_from(written).add_cte(upsert.cte("counted"))


def add_difference(db_session: DbSession, before: Tally, after: Tally) -> None:
    """Add ``after - before`` to the kept counts: one upsert, in key order."""
    zeros = [0] * len(MEASURES)
    rows = []
    for key in sorted(before.keys() | after.keys()):
        difference = [
            now - then
            for now, then in zip(after.get(key, zeros), before.get(key, zeros), strict=True)
        ]
        if any(difference):
            day, department_id, requirement_id = key
            rows.append(
                {
                    "day": day,
                    "department_id": department_id,
                    "requirement_id": requirement_id,
                    **dict(zip(MEASURES, difference, strict=True)),
                }
            )
    if rows:
        db_session.execute(_upsert(db_session.get_bind().dialect.name), rows)


@cache
def _upsert(dialect_name: str) -> Any:
    """INSERT … ON CONFLICT that adds to the kept counts (built once per dialect)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return _adding_to_counts(dialect.insert(_COUNTS))


def _adding_to_counts(upsert: Any) -> Any:
    """``upsert`` (an INSERT of counts) adding to a day's kept row where there is one."""
    return upsert.on_conflict_do_update(
        index_elements=["day", "department_id", "requirement_id"],
        set_={name: _COUNTS.c[name] + upsert.excluded[name] for name in MEASURES},
    )


# --- reading ------------------------------------------------------------------------------


def per_department(
    db_session: DbSession,
    *,
    today: date,
    due_soon_days: int,
    roots: Sequence[Department] | None,
) -> Subquery:
    """(department_id, requirement_id, *MEASURES) of the active requirements on ``today``,
    for the subtrees of ``roots`` (None: the whole city): from the kept counts when ``today``
    is counted, from the facts otherwise."""
    if not is_built(db_session, today, due_soon_days):
        rows = status_query(
            today=today,
            due_soon_days=due_soon_days,
            department_ids=None if roots is None else subtree_id_list(db_session, roots),
        ).subquery()
        return (
            select(
                rows.c.department_id,
                rows.c.requirement_id,
                *(m.label(name) for name, m in zip(MEASURES, measures(rows), strict=True)),
            )
            .group_by(rows.c.department_id, rows.c.requirement_id)
            .subquery("per_department")
        )
    active = select(Requirement.id).where(Requirement.active.is_(True))
    # The subtree's ids as a list: the planner then reads the index for them (see benchmarks).
    department_ids = None if roots is None else subtree_id_list(db_session, roots)

    def where(table: Any) -> list[ColumnElement[bool]]:
        conditions = [table.c.requirement_id.in_(active)]
        if department_ids is not None:
            conditions.append(table.c.department_id.in_(department_ids))
        return conditions

    kept = select(
        _COUNTS.c.department_id,
        _COUNTS.c.requirement_id,
        *(_COUNTS.c[name] for name in MEASURES),
    ).where(_COUNTS.c.day == today, *where(_COUNTS))
    exempt = exempt_pairs(today)
    exempt_facts = (
        select(_FACTS)
        .join(
            exempt,
            and_(
                exempt.c.employee_id == _FACTS.c.employee_id,
                exempt.c.requirement_id == _FACTS.c.requirement_id,
            ),
        )
        .where(*where(_FACTS))
        .subquery("exempt_facts")
    )
    as_counted = statuses_of(exempt_facts, today, due_soon_days, [], exemptions=False).subquery()
    as_exempt = statuses_of(exempt_facts, today, due_soon_days, []).subquery()
    taken_out = select(
        as_counted.c.department_id,
        as_counted.c.requirement_id,
        *(-m for m in measures(as_counted)),
    ).group_by(as_counted.c.department_id, as_counted.c.requirement_id)
    put_in = select(
        as_exempt.c.department_id, as_exempt.c.requirement_id, *measures(as_exempt)
    ).group_by(as_exempt.c.department_id, as_exempt.c.requirement_id)
    together = kept.union_all(taken_out, put_in).subquery("together")
    return (
        select(
            together.c.department_id,
            together.c.requirement_id,
            *(func.sum(together.c[name]).label(name) for name in MEASURES),
        )
        .group_by(together.c.department_id, together.c.requirement_id)
        # Kept rows of departments everyone left hold zeros: not a row of the report.
        .having(func.sum(together.c.in_scope) + func.sum(together.c.exempt) > 0)
        .subquery("per_department")
    )


# --- checking -----------------------------------------------------------------------------


def differences(db_session: DbSession, *, examples: int = 10) -> tuple[int, list[str]]:
    """Compare each kept day's counts with counting the facts now: (differing rows, examples)."""
    found = 0
    shown: list[str] = []
    for day, due_soon_days in counted_days(db_session):
        kept: Tally = {
            (day, department_id, requirement_id): [int(n) for n in numbers]
            for department_id, requirement_id, *numbers in db_session.execute(
                select(
                    _COUNTS.c.department_id,
                    _COUNTS.c.requirement_id,
                    *(_COUNTS.c[name] for name in MEASURES),
                ).where(_COUNTS.c.day == day)
            )
        }
        now = tally(db_session, [(day, due_soon_days)], lambda column: true(), None)
        zeros = [0] * len(MEASURES)
        for key in sorted(kept.keys() | now.keys()):
            if kept.get(key, zeros) != now.get(key, zeros):
                found += 1
                if len(shown) < examples:
                    shown.append(
                        f"{day}: department {key[1]}, requirement {key[2]} "
                        f"({', '.join(MEASURES)}): kept {kept.get(key, zeros)}, "
                        f"counted {now.get(key, zeros)}"
                    )
    return found, shown

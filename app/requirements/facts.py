"""Coverage facts: per person and requirement, the dates their status depends on.

``fact_query`` computes them live from staff, audiences, completions and requirements (one SQL
statement, no loop over people). ``coverage_facts`` keeps them, so reports compare dates instead
of recomputing a city's history on every request:

- every change made through the ORM (completions, people, departments, requirements and their
  audiences and courses) is noticed after each flush and the affected rows are rewritten just
  before the commit, in the same transaction (``_note_changes`` / ``_write_before_commit``);
- bulk statements that bypass the ORM (imports, attendance) call ``mark_employees`` or
  ``mark_departments`` themselves;
- a changed requirement is recomputed in the same transaction in a small city, and by the
  Celery task ``requirements.rebuild_coverage`` in a large one (``CoverageRebuild`` rows, with
  progress), as is a full rebuild on demand.

Concurrent writers of the same person's rows are serialised by transaction-scoped advisory
locks on PostgreSQL (one per range of ids, taken in order, so two writers never deadlock; see
``_lock_range``); SQLite serialises every writer anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, partial
from typing import Any
from uuid import uuid4

from flask import current_app, g, has_app_context
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Date,
    Delete,
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    event,
    except_,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    true,
    type_coerce,
    union,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, aliased
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.sql import visitors

from app.core.sql import add_days, add_months, greatest, least, make_date, year_of
from app.core.types import DbSession, utcnow
from app.courses.models import Completion
from app.extensions import Model
from app.requirements.models import (
    AudienceKind,
    AudienceRule,
    CoverageCount,
    CoverageFact,
    CoverageRebuild,
    Requirement,
    requirement_courses,
)
from app.staff.models import Department, Employee

#: Stands for "never expires" inside the SQL, so MAX() can compare it.
FOREVER = date(9999, 12, 31)

#: Restricts a query to some people: given an employee-id column (of any table), a condition.
EmployeeFilter = Callable[[Any], ColumnElement[bool]]


def among(employee_ids: Sequence[int], column: Any) -> ColumnElement[bool]:
    """An EmployeeFilter (with ``functools.partial``): these people."""
    condition: ColumnElement[bool] = column.in_(list(employee_ids))
    return condition


def between(lowest: int, highest: int, column: Any) -> ColumnElement[bool]:
    """An EmployeeFilter (with ``functools.partial``): ids from ``lowest`` to ``highest``."""
    condition: ColumnElement[bool] = column.between(lowest, highest)
    return condition


#: Some requirements: their ids, or an expanding bound parameter standing for them (in the
#: statements built once, see ``people_rewrite``).
RequirementIds = Collection[int] | BindParameter[Any]


def _one_of(column: Any, ids: RequirementIds) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column.in_(
        ids if isinstance(ids, BindParameter) else list(ids)
    )
    return condition


def _table(model: type[Model]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_FACTS = _table(CoverageFact)
_REBUILDS = _table(CoverageRebuild)

logger = logging.getLogger(__name__)
#: Tables a query reads the kept coverage from (written before such a query: see below).
_KEPT = frozenset({_FACTS, _table(CoverageCount)})


#: People per statement when many are rewritten (bounded memory and statement size).
CHUNK = 2000

#: PostgreSQL advisory locks on people: one per range of ``CHUNK`` ids (``_lock_range``);
#: a transaction touching more ranges than this locks everyone instead.
MAX_RANGE_LOCKS = 256
_LOCK_SPACE = 13_013  # the first key of the two-key advisory lock: "coverage facts"
_EVERYONE = -1  # the second key of the lock on everyone (ranges are 0 and up)

#: Person attributes that change which requirements apply or when they are due.
_EMPLOYEE_FIELDS = (
    "department_id",
    "position",
    "active",
    "entry_date",
    "on_staff_since",
    "exit_date",
)

FACT_COLUMNS = (
    "employee_id",
    "requirement_id",
    "department_id",
    "exit_date",
    "valid_until",
    "due_on",
)


# --- the live computation ---------------------------------------------------------------


def fact_query(
    *,
    employees: EmployeeFilter | None = None,
    requirement_ids: RequirementIds | None = None,
) -> Select[*tuple[Any, ...]]:
    """Rows (employee_id, requirement_id, department_id, exit_date, valid_until, due_on) for
    every active person in the audience of an active requirement, computed from the data."""
    pairs = _audience_pairs(employees, requirement_ids).subquery("pairs")
    held = _held_until(employees, requirement_ids).subquery("held")
    employee, requirement = Employee.__table__, Requirement.__table__
    entry = func.coalesce(employee.c.entry_date, employee.c.on_staff_since)
    first_due = case(
        (requirement.c.grace_days.is_(None), requirement.c.first_due_date),
        (requirement.c.first_due_date.is_(None), add_days(entry, requirement.c.grace_days)),
        else_=greatest(requirement.c.first_due_date, add_days(entry, requirement.c.grace_days)),
    )
    due_on = case(
        (held.c.valid_until.is_(None), first_due),
        else_=greatest(held.c.valid_until, first_due),
    )
    return (
        select(
            pairs.c.employee_id,
            pairs.c.requirement_id,
            employee.c.department_id,
            employee.c.exit_date,
            held.c.valid_until,
            type_coerce(due_on, Date).label("due_on"),
        )
        .select_from(pairs)
        .join(employee, employee.c.id == pairs.c.employee_id)
        .join(requirement, requirement.c.id == pairs.c.requirement_id)
        .outerjoin(
            held,
            and_(
                held.c.employee_id == pairs.c.employee_id,
                held.c.requirement_id == pairs.c.requirement_id,
            ),
        )
    )


def _audience_pairs(
    employees: EmployeeFilter | None, requirement_ids: RequirementIds | None
) -> Select[*tuple[Any, ...]]:
    """(employee_id, requirement_id) of everyone in an audience and not excluded from it."""
    included = _rule_matches(False, employees, requirement_ids).subquery("included")
    excluded = _rule_matches(True, employees, requirement_ids).subquery("excluded")
    return select(included.c.employee_id, included.c.requirement_id).where(
        ~exists().where(
            excluded.c.employee_id == included.c.employee_id,
            excluded.c.requirement_id == included.c.requirement_id,
        )
    )


def _rule_matches(
    exclude: bool, employees: EmployeeFilter | None, requirement_ids: RequirementIds | None
) -> Any:
    rule_department = aliased(Department)
    filters: list[ColumnElement[bool]] = [
        AudienceRule.exclude.is_(exclude),
        Requirement.active.is_(True),
        Employee.active.is_(True),
    ]
    if employees is not None:
        filters.append(employees(Employee.id))
    if requirement_ids is not None:
        filters.append(_one_of(Requirement.id, requirement_ids))

    def branch(kind: AudienceKind, match: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
        query: Select[*tuple[Any, ...]] = (
            select(Employee.id.label("employee_id"), AudienceRule.requirement_id)
            .select_from(AudienceRule)
            .join(Requirement, Requirement.id == AudienceRule.requirement_id)
            .join(Employee, match)
            .where(AudienceRule.kind == kind.value, *filters)
        )
        if kind is AudienceKind.DEPARTMENT:
            query = (
                query.join(Department, Department.id == Employee.department_id)
                .join(rule_department, rule_department.id == AudienceRule.department_id)
                .where(Department.path.like(rule_department.path + "%"))
            )
        return query

    return union(
        branch(AudienceKind.ALL, true()),
        branch(AudienceKind.DEPARTMENT, true()),
        branch(
            AudienceKind.POSITION,
            func.lower(Employee.position) == func.lower(AudienceRule.position),
        ),
    )


def _held_until(
    employees: EmployeeFilter | None, requirement_ids: RequirementIds | None
) -> CompoundSelect[*tuple[Any, ...]]:
    """Per (employee, requirement): the last day their completions keep them covered.

    Under a renewal window, completions are taken in order (a recursive query walks each
    person's history once): each counts until the earlier of its own end and its period's
    end, and a renewal inside the window before what was held so far ends starts its period
    when that ends, so early renewals chain. Without a window no completion depends on the
    ones before it, so the walk's result is simply the latest end of any of them: a plain
    MAX(), which costs a fraction of the walk (most requirements have no window)."""
    requirement = Requirement.__table__
    filters: list[ColumnElement[bool]] = []
    if employees is not None:
        filters.append(employees(Completion.employee_id))
    if requirement_ids is not None:
        filters.append(_one_of(requirement_courses.c.requirement_id, requirement_ids))
    columns = (
        Completion.employee_id,
        requirement_courses.c.requirement_id,
        Completion.completed_on,
        func.coalesce(Completion.valid_until, literal(FOREVER, Date)).label("own_end"),
        requirement.c.renewal_months,
        requirement.c.renewal_window_days,
        requirement.c.cycle_month,
        requirement.c.cycle_day,
    )

    def completions(*where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
        return (
            select(*columns)
            .join(requirement_courses, requirement_courses.c.course_id == Completion.course_id)
            .join(requirement, requirement.c.id == requirement_courses.c.requirement_id)
            .where(*filters, *where)
        )

    position = func.row_number().over(
        partition_by=(Completion.employee_id, requirement_courses.c.requirement_id),
        order_by=(Completion.completed_on, Completion.id),
    )
    numbered = (
        completions(requirement.c.renewal_window_days.is_not(None))
        .add_columns(position.label("position"))
        .cte("numbered")
    )
    first = (
        select(
            numbered.c.employee_id,
            numbered.c.requirement_id,
            numbered.c.position,
            type_coerce(_counts_until(numbered, None), Date).label("held"),
        )
        .where(numbered.c.position == 1)
        .cte("chain", recursive=True)
    )
    step = select(
        numbered.c.employee_id,
        numbered.c.requirement_id,
        numbered.c.position,
        type_coerce(greatest(first.c.held, _counts_until(numbered, first.c.held)), Date),
    ).join(
        first,
        and_(
            first.c.employee_id == numbered.c.employee_id,
            first.c.requirement_id == numbered.c.requirement_id,
            numbered.c.position == first.c.position + 1,
        ),
    )
    chain = first.union_all(step)
    chained = select(
        chain.c.employee_id,
        chain.c.requirement_id,
        type_coerce(func.max(chain.c.held), Date).label("valid_until"),
    ).group_by(chain.c.employee_id, chain.c.requirement_id)
    unchained = completions(requirement.c.renewal_window_days.is_(None)).cte("unchained")
    latest = select(
        unchained.c.employee_id,
        unchained.c.requirement_id,
        type_coerce(func.max(_counts_until(unchained, None)), Date).label("valid_until"),
    ).group_by(unchained.c.employee_id, unchained.c.requirement_id)
    return chained.union_all(latest)


def _counts_until(n: Any, held: ColumnElement[date] | None) -> ColumnElement[date]:
    """Until when completion ``n`` counts, given what was ``held`` before it (None: nothing)."""
    months = n.c.renewal_months
    cycle_this_year = make_date(year_of(n.c.completed_on), n.c.cycle_month, n.c.cycle_day)
    next_cycle_day = case(
        (n.c.completed_on <= cycle_this_year, cycle_this_year),
        else_=add_months(cycle_this_year, 12),
    )
    whens: list[tuple[ColumnElement[bool], Any]] = [
        (n.c.cycle_month.is_not(None), add_months(next_cycle_day, 12)),
        (months.is_(None), null()),
    ]
    if held is not None:
        renewed_early = and_(
            n.c.renewal_window_days.is_not(None),
            n.c.completed_on <= held,
            n.c.completed_on >= add_days(held, -n.c.renewal_window_days),
        )
        whens.append((renewed_early, add_days(add_months(add_days(held, 1), months), -1)))
    period_end = case(*whens, else_=add_days(add_months(n.c.completed_on, months), -1))
    return least(n.c.own_end, func.coalesce(period_end, n.c.own_end))


# --- writing the table ------------------------------------------------------------------


def refresh_employees(
    db_session: DbSession,
    employee_ids: Iterable[int],
    requirement_ids: Collection[int] | None = None,
    *,
    locked: bool = False,
) -> int:
    """Rewrite the rows of these people (of these requirements; None: of all) from the live
    computation, in the caller's transaction (``locked``: it holds their locks already);
    returns how many rows were written."""
    from app.requirements import counts  # noqa: PLC0415 (counts reads facts: import cycle)

    ids = sorted(set(employee_ids))
    requirements = None if requirement_ids is None else sorted(set(requirement_ids))
    days = counts.counted_days(db_session)
    written = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if not locked:
            _lock_people(db_session, chunk)
        parameters: dict[str, list[int]] = {"employee_ids": chunk}
        if requirements is not None:
            parameters["requirement_ids"] = requirements
        if days and _is_postgresql(db_session):
            written += counts.rewrite_people(db_session, days, parameters)
            continue
        with _counting(db_session, partial(among, chunk), requirements, people=chunk):
            stale, fresh, _rows = people_rewrite(requirements is not None)
            db_session.execute(stale, parameters)
            result = db_session.execute(
                fresh, parameters, execution_options={"preserve_rowcount": True}
            )
        written += int(getattr(result, "rowcount", 0) or 0)
    return written


@contextmanager
def _counting(
    db_session: DbSession,
    employees: EmployeeFilter,
    requirement_ids: Collection[int] | None,
    *,
    people: Sequence[int] | None = None,
) -> Iterator[None]:
    """Around a rewrite of these people's facts (``people``: their ids, when known): the
    counts kept per department (``counts``) change by what it changes, in the same
    transaction."""
    from app.requirements import counts  # noqa: PLC0415 (counts reads facts: import cycle)

    days = counts.counted_days(db_session)
    if not days:
        yield
        return

    def tally() -> counts.Tally:
        if people is not None:
            return counts.tally_people(db_session, days, people, requirement_ids)
        return counts.tally(db_session, days, employees, requirement_ids)

    before = tally()
    yield
    counts.add_difference(db_session, before, tally())


@cache
def people_rewrite(some_requirements: bool) -> tuple[Delete, Insert, Select[Any]]:
    """The DELETE and INSERT … SELECT that rewrite some people's rows (ids in the expanding
    parameter ``employee_ids``; with ``some_requirements`` only those in ``requirement_ids``),
    and the SELECT alone, built once: building the live computation's statement took about
    11 ms of Python per call, more than the database needed for one person."""
    ids: BindParameter[Any] = bindparam("employee_ids", expanding=True)
    requirements: BindParameter[Any] | None = (
        bindparam("requirement_ids", expanding=True) if some_requirements else None
    )

    def chosen(column: Any) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = column.in_(ids)
        return condition

    stale = delete(_FACTS).where(chosen(_FACTS.c.employee_id))
    if requirements is not None:
        stale = stale.where(_FACTS.c.requirement_id.in_(requirements))
    rows = fact_query(employees=chosen, requirement_ids=requirements)
    return stale, insert(_FACTS).from_select(list(FACT_COLUMNS), rows), rows


def refresh_requirements(
    db_session: DbSession,
    requirement_ids: Collection[int],
    *,
    on_progress: Callable[[int, int], None] | None = None,
    commit_each_chunk: bool = False,
    workers: int = 1,
) -> int:
    """Rewrite every person's rows of these requirements, a range of people at a time.

    In one transaction (``commit_each_chunk`` false) the kept counts follow each range. A
    rebuild that commits each range leaves the counts alone and counts the day again at the
    end (in between the figures are those from before the rebuild), and on PostgreSQL it may
    rewrite ``workers`` ranges side by side, each on its own connection."""
    ranges = _id_ranges(db_session)
    if not ranges:
        db_session.execute(
            delete(CoverageFact).where(CoverageFact.requirement_id.in_(list(requirement_ids)))
        )
        return 0
    total = db_session.scalar(select(func.count(Employee.id))) or 0
    if not commit_each_chunk:
        written = 0
        for start, end in ranges:
            written += _refresh_range(db_session, start, end, requirement_ids, counted=True)[0]
        return written
    db_session.commit()  # end the read (SQLite: a reading transaction may hold the write lock)
    side_by_side = workers > 1 and _is_postgresql(db_session)
    results = (
        _ranges_side_by_side(db_session, ranges, requirement_ids, workers)
        if side_by_side
        else _ranges_one_by_one(db_session, ranges, requirement_ids)
    )
    written = done = 0
    try:
        for rows, people in results:
            written += rows
            done += people
            if on_progress is not None:
                on_progress(done, total)
                db_session.commit()
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    _recount(db_session)
    return written


def _id_ranges(db_session: DbSession) -> list[tuple[int, int]]:
    """Ranges of employee ids, ``CHUNK`` each, aligned to the lock ranges (``_lock_range``)."""
    bounds = db_session.execute(select(func.min(Employee.id), func.max(Employee.id))).one()
    if bounds[0] is None:
        return []
    lowest = int(bounds[0]) // CHUNK * CHUNK
    return [(start, start + CHUNK - 1) for start in range(lowest, int(bounds[1]) + 1, CHUNK)]


def _refresh_range(
    db_session: DbSession, start: int, end: int, requirement_ids: Collection[int], *, counted: bool
) -> tuple[int, int]:
    """Rewrite the rows of people ``start``..``end`` (ids); returns (rows, people)."""
    _lock_range(db_session, start, end)
    people = partial(between, start, end)
    written = _rewrite(db_session, people, requirement_ids, counted=counted)
    in_range = db_session.scalar(select(func.count(Employee.id)).where(people(Employee.id)))
    return written, in_range or 0


def _ranges_one_by_one(
    db_session: DbSession, ranges: Sequence[tuple[int, int]], requirement_ids: Collection[int]
) -> Iterator[tuple[int, int]]:
    for start, end in ranges:
        result = _refresh_range(db_session, start, end, requirement_ids, counted=False)
        db_session.commit()
        yield result


def _ranges_side_by_side(
    db_session: DbSession,
    ranges: Sequence[tuple[int, int]],
    requirement_ids: Collection[int],
    workers: int,
) -> Iterator[tuple[int, int]]:
    """Each range in its own transaction on one of ``workers`` connections (threads); the
    results come back to the caller's thread, which reports progress. Stopping early (the
    rebuild was taken over, or failed) cancels the ranges not yet started."""
    bind = db_session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine

    def one(bounds: tuple[int, int]) -> tuple[int, int]:
        with Session(bind=engine) as session:
            result = _refresh_range(session, *bounds, requirement_ids, counted=False)
            session.commit()
            return result

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coverage-rebuild") as pool:
        futures = [pool.submit(one, bounds) for bounds in ranges]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _rewrite(
    db_session: DbSession,
    employees: EmployeeFilter,
    requirement_ids: Collection[int] | None,
    *,
    counted: bool = True,
) -> int:
    facts = _table(CoverageFact)
    stale = delete(facts).where(employees(facts.c.employee_id))
    if requirement_ids is not None:
        stale = stale.where(facts.c.requirement_id.in_(list(requirement_ids)))
    fresh = insert(facts).from_select(
        list(FACT_COLUMNS), fact_query(employees=employees, requirement_ids=requirement_ids)
    )
    with _counting(db_session, employees, requirement_ids) if counted else nullcontext():
        db_session.execute(stale)
        result = db_session.execute(fresh, execution_options={"preserve_rowcount": True})
    return int(getattr(result, "rowcount", 0) or 0)


def _is_postgresql(db_session: DbSession) -> bool:
    return db_session.get_bind().dialect.name == "postgresql"


def _lock_people(db_session: DbSession, employee_ids: Sequence[int]) -> None:
    """Wait for other transactions rewriting any of these people (PostgreSQL; see
    ``_lock_range``). Very many people at once (a city's import) lock everyone instead, which
    keeps the number of locks a transaction holds bounded."""
    if not _is_postgresql(db_session):
        return
    ranges = sorted({employee_id // CHUNK for employee_id in employee_ids})
    if len(ranges) > MAX_RANGE_LOCKS:
        lock_all_people(db_session)
        return
    _take_locks(db_session, ranges)


def _lock_range(db_session: DbSession, start: int, end: int) -> None:
    """Wait for other transactions rewriting people with ids ``start``..``end``.

    Every writer of facts holds the shared lock on everyone, then one exclusive lock per
    range of ``CHUNK`` ids it touches, taken in ascending order (so two writers never
    deadlock); ``lock_all_people`` takes the lock on everyone exclusively. A rebuild's
    ranges therefore run side by side, and a person's change waits only for the range
    holding them."""
    if _is_postgresql(db_session):
        _take_locks(db_session, list(range(start // CHUNK, end // CHUNK + 1)))


def _take_locks(db_session: DbSession, ranges: list[int]) -> None:
    db_session.execute(
        text("SELECT pg_advisory_xact_lock_shared(:space, :everyone)"),
        {"space": _LOCK_SPACE, "everyone": _EVERYONE},
    )
    # One statement for all ranges, in ascending order (unnest keeps the array's order).
    db_session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(:space, r))"
            " FROM unnest(CAST(:ranges AS integer[])) WITH ORDINALITY AS t(r, n)"
        ),
        {"space": _LOCK_SPACE, "ranges": ranges},
    )


def lock_all_people(db_session: DbSession) -> None:
    """Wait for every transaction rewriting facts, and hold them off until this one ends
    (PostgreSQL; SQLite has one writer at a time anyway)."""
    if _is_postgresql(db_session):
        db_session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :everyone)"),
            {"space": _LOCK_SPACE, "everyone": _EVERYONE},
        )


# --- noticing changes -------------------------------------------------------------------


@dataclass
class _Pending:
    employees: set[int] = field(default_factory=set)
    departments: set[int] = field(default_factory=set)
    requirements: set[int] = field(default_factory=set)
    #: New people inserted in bulk (their ids are not known before the insert).
    personnel_numbers: set[str] = field(default_factory=set)
    #: People whose completions of these courses changed: only the requirements those
    #: courses fulfil need rewriting (unless the person is in ``employees`` anyway).
    completions: dict[int, set[int]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.employees
            or self.departments
            or self.requirements
            or self.personnel_numbers
            or self.completions
        )


_PENDING = "coverage_facts_pending"


def _pending(db_session: DbSession) -> _Pending:
    pending: _Pending = db_session.info.setdefault(_PENDING, _Pending())
    return pending


def mark_employees(db_session: DbSession, employee_ids: Iterable[int]) -> None:
    """These people's rows are rewritten before the transaction commits (for changes made
    with bulk statements, which the ORM does not see)."""
    _pending(db_session).employees.update(employee_ids)


def mark_departments(db_session: DbSession, department_ids: Iterable[int]) -> None:
    """Everyone in these departments' subtrees is rewritten before the commit (a move)."""
    _pending(db_session).departments.update(department_ids)


def mark_requirements(db_session: DbSession, requirement_ids: Iterable[int]) -> None:
    _pending(db_session).requirements.update(requirement_ids)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _flush_context: object) -> None:
    pending = _pending(session)
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Completion):
            for employee_id in _values(instance, "employee_id"):
                pending.completions.setdefault(employee_id, set()).update(
                    _values(instance, "course_id")
                )
        elif isinstance(instance, Employee):
            created_or_gone = instance in session.new or instance in session.deleted
            if created_or_gone or any(
                get_history(instance, name).has_changes() for name in _EMPLOYEE_FIELDS
            ):
                pending.employees.add(instance.id)
        elif isinstance(instance, Department):
            if instance not in session.new and any(
                get_history(instance, name).has_changes() for name in ("path", "parent_id")
            ):
                pending.departments.add(instance.id)
        elif isinstance(instance, Requirement):
            if instance in session.deleted or session.is_modified(instance):
                pending.requirements.add(instance.id)
        elif isinstance(instance, AudienceRule):
            pending.requirements.update(_values(instance, "requirement_id"))


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    """The same for INSERT/UPDATE/DELETE statements run through the session (imports,
    withdrawn attendance, moved subtrees), which bypass the unit of work: the people they
    touch are looked up before the statement runs."""
    if not (state.is_insert or state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    entity = state.bind_mapper.class_
    if entity not in (Completion, Employee, Department):
        return
    pending, session = _pending(state.session), state.session
    rows = _parameter_rows(state.parameters)
    statement: Any = state.statement
    criteria = getattr(statement, "whereclause", None)
    if entity is Completion:
        if state.is_insert:
            pending.employees.update(int(row["employee_id"]) for row in rows)
        elif rows and all("id" in row for row in rows):
            pending.employees.update(
                session.scalars(
                    select(Completion.employee_id).where(
                        Completion.id.in_([row["id"] for row in rows])
                    )
                )
            )
        elif criteria is not None:
            pending.employees.update(
                session.scalars(select(Completion.employee_id).where(criteria))
            )
    elif entity is Employee:
        if state.is_insert:
            pending.personnel_numbers.update(str(row["personnel_number"]) for row in rows)
        elif rows and all("id" in row for row in rows):
            pending.employees.update(int(row["id"]) for row in rows)
        elif criteria is not None:
            pending.employees.update(session.scalars(select(Employee.id).where(criteria)))
    elif criteria is not None:  # departments: a subtree moved
        pending.departments.update(session.scalars(select(Department.id).where(criteria)))


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading(state: ORMExecuteState) -> None:
    """A query of the facts inside a transaction that changed what they depend on first
    writes those changes (a report in the same transaction reads its own writes)."""
    if not state.is_select or not state.session.info.get(_PENDING):
        return
    statement: Any = state.statement  # a Select here; typed as the wider Executable
    if not any(element in _KEPT for element in visitors.iterate(statement)):
        return
    write_now(state.session)


def write_now(db_session: DbSession) -> None:
    """Write the pending changes now instead of at the commit."""
    db_session.flush()
    pending: _Pending | None = db_session.info.pop(_PENDING, None)
    if pending:
        write_pending(db_session, pending)


def _parameter_rows(parameters: object) -> list[Mapping[str, Any]]:
    if isinstance(parameters, Mapping):
        return [parameters] if parameters else []
    if isinstance(parameters, Sequence):
        return [row for row in parameters if isinstance(row, Mapping)]
    return []


def _values(instance: object, name: str) -> set[int]:
    """The attribute's current value and, if it changed in this flush, its previous one."""
    history = get_history(instance, name)
    return {v for v in (*history.added, *history.unchanged, *history.deleted) if v is not None}


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    # The commit's own flush comes after this hook: flush first, so its changes are noticed.
    write_now(session)


def write_pending(db_session: DbSession, pending: _Pending) -> None:
    """Rewrite the rows the pending changes affect (called just before the commit)."""
    employees = set(pending.employees)
    numbers = sorted(pending.personnel_numbers)
    for start in range(0, len(numbers), CHUNK):
        employees.update(
            db_session.scalars(
                select(Employee.id).where(
                    Employee.personnel_number.in_(numbers[start : start + CHUNK])
                )
            )
        )
    if pending.departments:
        paths = db_session.scalars(
            select(Department.path).where(Department.id.in_(list(pending.departments)))
        ).all()
        if paths:
            employees.update(
                db_session.scalars(
                    select(Employee.id)
                    .join(Department, Department.id == Employee.department_id)
                    .where(or_(*(Department.path.like(f"{path}%") for path in paths)))
                )
            )
    if pending.requirements:
        existing = set(
            db_session.scalars(
                select(Requirement.id).where(Requirement.id.in_(list(pending.requirements)))
            )
        )
        if existing:
            if _staff_count(db_session) <= inline_limit():
                refresh_requirements(db_session, sorted(existing))
            else:
                for requirement_id in sorted(existing):
                    queue_rebuild(db_session, requirement_id)
    completed = {e: c for e, c in pending.completions.items() if e not in employees}
    # Every person this commit rewrites, locked at once in ascending order (no deadlocks).
    _lock_people(db_session, sorted(employees | completed.keys()))
    for requirement_ids, people in _by_requirements(db_session, completed).items():
        refresh_employees(db_session, people, requirement_ids, locked=True)
    if employees:
        refresh_employees(db_session, employees, locked=True)


def _by_requirements(
    db_session: DbSession, courses_of: Mapping[int, set[int]]
) -> dict[frozenset[int], list[int]]:
    """People grouped by the requirements their changed completions' courses fulfil."""
    if not courses_of:
        return {}
    fulfils: dict[int, set[int]] = {}
    for course_id, requirement_id in db_session.execute(
        select(requirement_courses.c.course_id, requirement_courses.c.requirement_id).where(
            requirement_courses.c.course_id.in_(sorted(set().union(*courses_of.values())))
        )
    ):
        fulfils.setdefault(course_id, set()).add(requirement_id)
    groups: dict[frozenset[int], list[int]] = {}
    for employee_id, course_ids in courses_of.items():
        requirement_ids = frozenset().union(*(fulfils.get(c, set()) for c in course_ids))
        if requirement_ids:  # a course no requirement asks for changes nothing
            groups.setdefault(requirement_ids, []).append(employee_id)
    return groups


def _staff_count(db_session: DbSession) -> int:
    return db_session.scalar(select(func.count(Employee.id)).where(Employee.active)) or 0


def inline_limit() -> int:
    """Up to this many active staff, a changed requirement is recomputed in its own
    transaction; above it, by a Celery task (setting ``COVERAGE_INLINE_MAX_STAFF``)."""
    if has_app_context():
        return int(current_app.config.get("COVERAGE_INLINE_MAX_STAFF", 5000))
    return 5000


# --- rebuilds ---------------------------------------------------------------------------


def queue_rebuild(db_session: DbSession, requirement_id: int | None) -> CoverageRebuild:
    """Record a rebuild (one requirement, or all with None) for the task to run; a rebuild
    of the same scope already waiting is reused. The task is asked to start once the
    transaction commits (``start_queued_rebuilds``); the periodic sweep runs it otherwise."""
    db_session.info[_REBUILD_QUEUED] = True
    waiting = db_session.scalars(
        select(CoverageRebuild).where(
            CoverageRebuild.state == "queued",
            CoverageRebuild.requirement_id.is_(None)
            if requirement_id is None
            else CoverageRebuild.requirement_id == requirement_id,
        )
    ).first()
    if waiting is not None:
        return waiting
    rebuild = CoverageRebuild(requirement_id=requirement_id, state="queued")
    db_session.add(rebuild)
    db_session.flush()
    return rebuild


class RebuildTakenOver(Exception):
    """Another worker took the rebuild over (this one's lease ran out): stop writing."""


def run_rebuild(
    db_session: DbSession,
    rebuild_id: int,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> bool:
    """Run one rebuild, committing after each range of people; returns whether this call ran
    it to the end. Safe to run twice and on several workers at once: the row is claimed by
    one conditional UPDATE, so a rebuild running elsewhere (its heartbeat younger than the
    lease), or done, is left alone; one whose worker stopped stamping it is taken over, and
    the worker that lost it stops at its next stamp."""
    me = uuid4().hex
    now = utcnow()
    claimed = db_session.execute(
        _REBUILDS.update()
        .where(CoverageRebuild.id == rebuild_id, _claimable(now))
        .values(state="running", claimed_by=me, heartbeat_at=now, finished_at=None)
    )
    if not getattr(claimed, "rowcount", 0):
        db_session.rollback()
        return False
    rebuild = db_session.get(CoverageRebuild, rebuild_id)
    assert rebuild is not None
    requirement_ids = (
        list(db_session.scalars(select(Requirement.id)))
        if rebuild.requirement_id is None
        else [rebuild.requirement_id]
    )
    db_session.commit()
    mine = and_(CoverageRebuild.id == rebuild_id, CoverageRebuild.claimed_by == me)

    def progress(done: int, total: int) -> None:
        stamped = db_session.execute(
            _REBUILDS.update()
            .where(mine, CoverageRebuild.state == "running")
            .values(employees_done=done, employees_total=total, heartbeat_at=utcnow())
        )
        if not getattr(stamped, "rowcount", 0):
            raise RebuildTakenOver(rebuild_id)
        if on_progress is not None:
            on_progress(done, total)

    try:
        if rebuild.requirement_id is None:
            # Rows of requirements that no longer exist go with the full rebuild.
            db_session.execute(
                delete(CoverageFact).where(CoverageFact.requirement_id.not_in(requirement_ids))
            )
        refresh_requirements(
            db_session,
            requirement_ids,
            on_progress=progress,
            commit_each_chunk=True,
            workers=rebuild_workers(),
        )
    except RebuildTakenOver:
        db_session.rollback()
        return False
    except Exception:
        db_session.rollback()
        db_session.execute(
            _REBUILDS.update().where(mine).values(state="failed", finished_at=utcnow())
        )
        db_session.commit()
        raise
    finished = db_session.execute(
        _REBUILDS.update()
        .where(mine, CoverageRebuild.state == "running")
        .values(state="done", finished_at=utcnow(), heartbeat_at=utcnow())
    )
    db_session.commit()
    return bool(getattr(finished, "rowcount", 0))


def run_pending_rebuilds(db_session: DbSession, rebuild_id: int | None = None) -> int:
    """Run this rebuild, or (None) every one waiting and every one whose worker died;
    returns how many this call ran."""
    ids = pending_rebuild_ids(db_session) if rebuild_id is None else [rebuild_id]
    db_session.commit()  # end the read: on SQLite it would hold the write lock
    return sum(run_rebuild(db_session, one) for one in ids)


def queued_rebuild_ids(db_session: DbSession) -> list[int]:
    return list(
        db_session.scalars(
            select(CoverageRebuild.id)
            .where(CoverageRebuild.state == "queued")
            .order_by(CoverageRebuild.id)
        )
    )


def pending_rebuild_ids(db_session: DbSession) -> list[int]:
    """Rebuilds to run: queued ones, and running ones whose heartbeat is older than the lease."""
    return list(
        db_session.scalars(
            select(CoverageRebuild.id).where(_claimable(utcnow())).order_by(CoverageRebuild.id)
        )
    )


def current_rebuild(db_session: DbSession) -> CoverageRebuild | None:
    """The rebuild running now, else the first one waiting (None: figures are complete)."""
    return db_session.scalars(
        select(CoverageRebuild)
        .where(CoverageRebuild.state.in_(("queued", "running")))
        .order_by(CoverageRebuild.state.desc(), CoverageRebuild.id)
        .limit(1)
    ).first()


def last_finished_rebuild(db_session: DbSession) -> CoverageRebuild | None:
    """The rebuild that ended last (done or failed)."""
    return db_session.scalars(
        select(CoverageRebuild)
        .where(CoverageRebuild.finished_at.is_not(None))
        .order_by(CoverageRebuild.finished_at.desc(), CoverageRebuild.id.desc())
        .limit(1)
    ).first()


def rebuild_lease() -> timedelta:
    """How long a running rebuild may go without a heartbeat before another worker takes it
    over (setting ``COVERAGE_REBUILD_LEASE_SECONDS``; longer than one range of people takes)."""
    seconds = 600
    if has_app_context():
        seconds = int(current_app.config.get("COVERAGE_REBUILD_LEASE_SECONDS", seconds))
    return timedelta(seconds=seconds)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        CoverageRebuild.state == "queued",
        and_(
            CoverageRebuild.state == "running",
            or_(
                CoverageRebuild.heartbeat_at.is_(None),
                CoverageRebuild.heartbeat_at < now - rebuild_lease(),
            ),
        ),
    )


_REBUILD_QUEUED = "coverage_rebuild_queued"


@event.listens_for(Session, "after_commit")
def _note_queued_rebuild(session: Session) -> None:
    if session.info.pop(_REBUILD_QUEUED, False) and has_app_context():
        g.coverage_rebuild_queued = True


def start_queued_rebuilds(_error: BaseException | None = None) -> None:
    """Teardown of an app context that committed a queued rebuild: start the task now
    instead of at the next sweep (after the context's session is closed, so an in-process
    task has the database to itself). A failure (Redis down) is only logged."""
    if not g.pop("coverage_rebuild_queued", False):
        return
    kick = current_app.extensions.get("coverage_rebuild_kick")
    if kick is None or not current_app.config.get("COVERAGE_REBUILD_ON_COMMIT", True):
        return
    try:
        kick()
    except Exception:
        logger.warning("Could not start the coverage rebuild; the sweep runs it", exc_info=True)


def rebuild_facts(
    db_session: DbSession,
    *,
    requirement_ids: Collection[int] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> int:
    """Rebuild the table now (all requirements, or some), committing after each range of
    people, ``workers`` ranges side by side on PostgreSQL; returns the rows written (for
    commands, the demo and benchmarks)."""
    ids = (
        list(db_session.scalars(select(Requirement.id)))
        if requirement_ids is None
        else list(requirement_ids)
    )
    if requirement_ids is None:
        db_session.execute(delete(CoverageFact).where(CoverageFact.requirement_id.not_in(ids)))
    return refresh_requirements(
        db_session, ids, on_progress=on_progress, commit_each_chunk=True, workers=workers
    )


def rebuild_workers() -> int:
    """Ranges of people a rebuild rewrites side by side (setting ``COVERAGE_REBUILD_WORKERS``;
    PostgreSQL only, each on its own connection)."""
    if has_app_context():
        return max(1, int(current_app.config.get("COVERAGE_REBUILD_WORKERS", 1)))
    return 1


def _recount(db_session: DbSession) -> None:
    """After a full rebuild (which repairs whatever drifted), count the kept day again."""
    from app.requirements import counts  # noqa: PLC0415 (counts reads facts: import cycle)

    counts.recount(db_session)


# --- checking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FactDifferences:
    """Rows the live computation has but the table lacks or holds otherwise (``missing``), and
    rows the table holds that the live computation does not (``extra``), with examples."""

    missing: int
    extra: int
    examples: list[str]

    @property
    def total(self) -> int:
        return self.missing + self.extra


def differences(
    db_session: DbSession, *, employees: EmployeeFilter | None = None, examples: int = 10
) -> FactDifferences:
    """Compare the kept facts of some people (None: everyone) with the live computation."""
    facts = _table(CoverageFact)
    kept = select(*(facts.c[name] for name in FACT_COLUMNS))
    if employees is not None:
        kept = kept.where(employees(facts.c.employee_id))
    live = fact_query(employees=employees)
    missing = except_(live, kept).subquery("missing")
    extra = except_(kept, live).subquery("extra")
    shown: list[str] = []
    counts = []
    for label, rows in (("missing", missing), ("extra", extra)):
        counts.append(db_session.scalar(select(func.count()).select_from(rows)) or 0)
        for row in db_session.execute(select(rows).limit(examples)):
            shown.append(
                f"{label}: employee {row.employee_id}, requirement {row.requirement_id}, "
                f"department {row.department_id}, exit {row.exit_date}, "
                f"valid until {row.valid_until}, due {row.due_on}"
            )
    return FactDifferences(missing=counts[0], extra=counts[1], examples=shown)

"""Store an oracle ``World`` in the database and read the product's statuses and roll-ups back.

Rows keep the oracle's ids, so both answers are keyed alike. Completions get their end date
from the product's own ``valid_until`` (as attendance and imports do), departments their
materialised path; the session hooks write ``coverage_facts`` on
each commit as for any change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NamedTuple

from sqlalchemy import select

from app.courses.models import Completion
from app.courses.models import Course as CourseRow
from app.courses.services.attendance import valid_until
from app.extensions import db
from app.reports.services import coverage
from app.requirements.models import AudienceRule, Exemption, Requirement
from app.requirements.status import live_status_query, status_query
from app.staff.models import Department, Employee
from tests.requirements import oracle


class Answer(NamedTuple):
    department_id: int
    status: str
    due_date: date
    valid_until: date | None
    covered: bool


#: The tables ``store`` fills, in an order that deletes them without breaking a foreign key.
_TABLES = (
    "coverage_counts",
    "coverage_count_days",
    "exemptions",
    "coverage_facts",
    "coverage_rebuilds",
    "completions",
    "requirement_audience",
    "requirement_courses",
    "requirements",
    "employees",
    "courses",
)


def clear() -> None:
    """Delete what ``store`` added (much faster than emptying every table between the
    examples of a property test)."""
    db.session.rollback()
    for name in _TABLES:
        db.session.execute(db.metadata.tables[name].delete())
    departments = db.metadata.tables["departments"]
    db.session.execute(departments.update().values(parent_id=None))
    db.session.execute(departments.delete())
    db.session.commit()


def store(world: oracle.World, *, before_people: Callable[[], object] | None = None) -> None:
    """Add the world's rows (to empty tables) and commit; ``before_people`` runs once the
    departments, courses and requirements are committed (e.g. to count a day, whose counts
    the people's rows then change)."""
    session = db.session
    paths: dict[int, tuple[str, int]] = {}
    pending = list(world.departments)
    while pending:  # parents first
        for dept in list(pending):
            if dept.parent_id is None or dept.parent_id in paths:
                parent_path, parent_depth = paths.get(dept.parent_id or 0, ("/", -1))
                paths[dept.id] = (f"{parent_path}{dept.id}/", parent_depth + 1)
                session.add(
                    Department(
                        id=dept.id,
                        code=f"OE-{dept.id}",
                        name=f"Abteilung {dept.id}",
                        parent_id=dept.parent_id,
                        path=paths[dept.id][0],
                        depth=paths[dept.id][1],
                    )
                )
                pending.remove(dept)
        session.flush()
    courses = {}
    for course in world.courses:
        courses[course.id] = CourseRow(
            id=course.id,
            code=f"K{course.id}",
            title=f"Kurs {course.id}",
            validity_months=course.validity_months,
        )
        session.add(courses[course.id])
    for req in world.requirements:
        row = Requirement(
            id=req.id,
            name=f"Pflicht {req.id}",
            first_due_date=req.first_due_date,
            grace_days=req.grace_days,
            renewal_months=req.renewal_months,
            renewal_window_days=req.renewal_window_days,
            cycle_month=req.cycle[0] if req.cycle else None,
            cycle_day=req.cycle[1] if req.cycle else None,
            active=req.active,
            courses=[courses[course_id] for course_id in sorted(req.course_ids)],
        )
        row.audience = [
            AudienceRule(
                kind=rule.kind,
                department_id=rule.department_id,
                position=rule.position,
                exclude=rule.exclude,
            )
            for rule in req.audience
        ]
        session.add(row)
    # Rules first, then the people (as a city starts): the people's rows are written for
    # them alone, without rewriting each requirement over everyone.
    session.commit()
    if before_people is not None:
        before_people()
    for person in world.people:
        session.add(
            Employee(
                id=person.id,
                personnel_number=f"P{person.id:06d}",
                first_name="Erika",
                last_name=f"Muster{person.id}",
                department_id=person.department_id,
                position=person.position,
                entry_date=person.entry_date,
                on_staff_since=person.on_staff_since,
                exit_date=person.exit_date,
                active=person.active,
            )
        )
    session.flush()
    for done in world.completions:
        session.add(
            Completion(
                id=done.id,
                employee_id=done.employee_id,
                course_id=done.course_id,
                completed_on=done.completed_on,
                valid_until=valid_until(courses[done.course_id], done.completed_on),
            )
        )
    for exemption in world.exemptions:
        session.add(
            Exemption(
                employee_id=exemption.employee_id,
                requirement_id=exemption.requirement_id,
                reason="Elternzeit",
                starts_on=exemption.starts_on,
                ends_on=exemption.ends_on,
            )
        )
    session.commit()


def product_statuses(
    today: date, due_soon_days: int, *, live: bool
) -> dict[tuple[int, int], Answer]:
    """The product's rows: from ``coverage_facts`` (``status_query``) or computed live."""
    query = live_status_query if live else status_query
    rows = db.session.execute(query(today=today, due_soon_days=due_soon_days)).all()
    found = {
        (row.employee_id, row.requirement_id): Answer(
            row.department_id, row.status, row.due_date, row.valid_until, bool(row.covered)
        )
        for row in rows
    }
    assert len(found) == len(rows), "one row per person and requirement"
    return found


def oracle_statuses(
    world: oracle.World, today: date, due_soon_days: int
) -> dict[tuple[int, int], Answer]:
    return {
        key: Answer(row.department_id, row.status, row.due_date, row.valid_until, row.covered)
        for key, row in oracle.statuses(world, today, due_soon_days).items()
    }


def product_rollup(today: date, due_soon_days: int) -> dict[tuple[int | None, int], tuple]:
    """(department_id or None for the city, requirement_id) → counts and percent."""
    departments = list(db.session.scalars(select(Department).order_by(Department.id)))
    rows = coverage(
        db.session,
        departments=departments,
        scope_roots=None,
        today=today,
        due_soon_days=due_soon_days,
    )
    return {
        (None if row.department is None else row.department.id, row.requirement.id): (
            row.in_scope,
            row.compliant,
            row.due_soon,
            row.overdue,
            row.pending,
            row.exempt,
            row.covered,
            row.coverage_percent,
        )
        for row in rows
    }


def oracle_rollup(
    world: oracle.World, today: date, due_soon_days: int
) -> dict[tuple[int | None, int], tuple]:
    """The same from the oracle; the city's row only where the product shows one (two or
    more top departments: with one, that department's own row is the total)."""
    rows = oracle.statuses(world, today, due_soon_days)
    tops = [d for d in world.departments if d.parent_id is None]
    return {
        key: (
            r.in_scope,
            r.compliant,
            r.due_soon,
            r.overdue,
            r.pending,
            r.exempt,
            r.covered,
            r.percent,
        )
        for key, r in oracle.rollup(world, rows).items()
        if key[0] is not None or len(tops) >= 2
    }

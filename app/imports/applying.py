"""Writing a checked plan (see ``planning``) to the database, in the caller's transaction.

Rows go in with bulk statements in chunks; people who left have their future bookings cancelled
(a waiting colleague moves up) and their login disabled. The caller commits once, so an import
is applied whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import insert, select, update

from app.auth.models import DepartmentHead, User, UserRole
from app.core.roles import Role
from app.core.types import DbSession, utcnow
from app.courses.models import ACTIVE_STATUSES, Completion, CourseSession, Enrolment
from app.courses.services.enrolment import withdraw_leaver
from app.courses.services.errors import NotCancellable
from app.imports.models import ImportKind
from app.imports.planning import Plan, Progress
from app.staff.models import Department, Employee
from app.staff.services import create_department, move_department

CHUNK = 1000

T = TypeVar("T")
#: Called with the number of rows written so far.
Written = Callable[[int], None]


@dataclass
class Applied:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    cancelled_enrolments: int = 0
    heads: int = 0


def apply_plan(
    db_session: DbSession,
    plan: Plan,
    *,
    actor: User | None,
    on_progress: Progress | None = None,
) -> Applied:
    """Write ``plan`` (which must be free of problems); flushes, does not commit."""
    if not plan.ok:
        raise ValueError("a plan with problems cannot be applied")
    apply = {
        ImportKind.DEPARTMENTS: _apply_departments,
        ImportKind.STAFF: _apply_staff,
        ImportKind.COMPLETIONS: _apply_completions,
    }[ImportKind(plan.kind)]
    total = len(plan.new) + len(plan.updated) + len(plan.deactivated) or 1

    def progress(done: int) -> None:
        if on_progress is not None:
            on_progress(done, total)

    applied = apply(db_session, plan, actor, progress)
    db_session.flush()
    return applied


def _apply_staff(
    db_session: DbSession, plan: Plan, actor: User | None, progress: Written
) -> Applied:
    now = utcnow()
    done = 0
    for chunk in _chunks(plan.new):
        # render_nulls: rows with and without an exit date go in one statement per chunk
        db_session.execute(insert(Employee).execution_options(render_nulls=True), chunk)
        done += len(chunk)
        progress(done)
    for changes in _chunks([*plan.updated, *plan.deactivated]):
        db_session.execute(
            update(Employee),
            [{"id": change.row_id, **change.values, "updated_at": now} for change in changes],
        )
        done += len(changes)
        progress(done)
    leavers = [change.row_id for change in plan.deactivated]
    cancelled = _withdraw_leavers(db_session, leavers, actor)
    for employee_ids in _chunks(leavers):
        db_session.execute(
            update(User).where(User.employee_id.in_(employee_ids)).values(active=False),
            execution_options={"synchronize_session": False},
        )
    return Applied(
        created=len(plan.new),
        updated=len(plan.updated),
        deactivated=len(leavers),
        cancelled_enrolments=cancelled,
    )


def _withdraw_leavers(db_session: DbSession, employee_ids: list[int], actor: User | None) -> int:
    """Cancel every future booking and waiting place of these people."""
    now = utcnow()
    enrolments = [
        enrolment
        for chunk in _chunks(employee_ids)
        for enrolment in db_session.scalars(
            select(Enrolment)
            .join(CourseSession, CourseSession.id == Enrolment.session_id)
            .where(
                Enrolment.employee_id.in_(chunk),
                Enrolment.status.in_(ACTIVE_STATUSES),
                ~CourseSession.has_begun(now),
            )
        )
    ]
    # Dates are locked in id order, as everywhere, so a parallel move cannot deadlock with us.
    cancelled = 0
    for enrolment in sorted(enrolments, key=lambda e: (e.session_id, e.id)):
        try:
            withdraw_leaver(db_session, enrolment=enrolment, actor=actor)
        except NotCancellable:  # the person cancelled it themself a moment ago
            continue
        cancelled += 1
    return cancelled


def _apply_departments(
    db_session: DbSession, plan: Plan, actor: User | None, progress: Written
) -> Applied:
    by_code = {d.code: d for d in db_session.scalars(select(Department))}
    done = 0
    # Codes and names are text (str() only tells the type checker, which sees any Value).
    for row in plan.new:  # parents come first (the plan is in tree order)
        parent = by_code[str(row["parent"])] if row["parent"] else None
        code = str(row["code"])
        by_code[code] = create_department(
            db_session, code=code, name=str(row["name"]), parent=parent
        )
        done += 1
        progress(done)
    for change in plan.updated:
        department = db_session.get_one(Department, change.row_id)
        if "name" in change.values:
            department.name = str(change.values["name"])
        if "parent" in change.values:
            parent_code = change.values["parent"]
            parent = by_code[str(parent_code)] if parent_code else None
            move_department(db_session, department, parent)  # expires all: paths reload
        done += 1
        progress(done)
    heads = 0
    for head in plan.heads:
        user_id = head.user_id
        department_id = by_code[head.department_code].id
        exists = db_session.scalar(
            select(DepartmentHead.id).where(
                DepartmentHead.user_id == user_id, DepartmentHead.department_id == department_id
            )
        )
        if exists is None:
            db_session.add(DepartmentHead(user_id=user_id, department_id=department_id))
            heads += 1
        has_role = db_session.scalar(
            select(UserRole.id).where(UserRole.user_id == user_id, UserRole.role == Role.HEAD.value)
        )
        if has_role is None:
            db_session.add(UserRole(user_id=user_id, role=Role.HEAD.value))
        db_session.flush()
    return Applied(created=len(plan.new), updated=len(plan.updated), heads=heads)


def _apply_completions(
    db_session: DbSession, plan: Plan, actor: User | None, progress: Written
) -> Applied:
    done = 0
    columns = ("employee_id", "course_id", "completed_on", "valid_until", "certificate_ref")
    for chunk in _chunks(plan.new):
        db_session.execute(
            insert(Completion).execution_options(render_nulls=True),
            [{k: row[k] for k in columns} for row in chunk],
        )
        done += len(chunk)
        progress(done)
    for changes in _chunks(plan.updated):
        db_session.execute(
            update(Completion), [{"id": change.row_id, **change.values} for change in changes]
        )
        done += len(changes)
        progress(done)
    return Applied(created=len(plan.new), updated=len(plan.updated))


def _chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

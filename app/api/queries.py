"""What the API's lists read: completions, attended and booked dates, people's statuses.

Each list is ordered by a unique key and continued after the last row of a page (keyset
pagination): a page's cursor stays valid while rows are added or removed elsewhere, and
reading page 500 costs as much as page 1. Statuses come from ``requirements.status`` and
subtrees from ``staff.services``, as on the pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, and_, or_, select, tuple_

from app.core.types import BERLIN, DbSession
from app.courses.models import SEATED_STATUSES, Completion, Course, CourseSession, Enrolment
from app.requirements.models import Requirement
from app.requirements.status import never_expires, status_query
from app.staff.models import Department, Employee
from app.staff.services import subtree_id_list


class BadCursor(ValueError):
    """A cursor this list did not hand out."""


def encode_cursor(*values: object) -> str:
    text = json.dumps([v.isoformat() if isinstance(v, date) else v for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> list[Any]:
    """The values of ``cursor``, each of the given kind (int, str or date)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise BadCursor(cursor)
        values: list[Any] = []
        for value, kind in zip(raw, kinds, strict=True):
            if kind is date:
                values.append(date.fromisoformat(value))
            elif _fits(value, kind):
                values.append(value)
            else:
                raise BadCursor(cursor)
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise BadCursor(cursor) from error


def _fits(value: object, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
    return isinstance(value, str) and "\x00" not in value


def completions_page(
    db_session: DbSession,
    *,
    start: date,
    end: date,
    department: Department | None,
    after: str | None,
    limit: int,
) -> tuple[list[Row[Any]], str | None]:
    """Completions between two days (inclusive), of a subtree when given, by day and id."""
    query = (
        select(
            Completion.id,
            Employee.id.label("employee_id"),
            Employee.personnel_number,
            Department.code.label("department"),
            Course.code.label("course"),
            Completion.completed_on,
            Completion.valid_until,
            Completion.certificate_ref,
        )
        .join(Employee, Employee.id == Completion.employee_id)
        .join(Department, Department.id == Employee.department_id)
        .join(Course, Course.id == Completion.course_id)
        .where(Completion.completed_on.between(start, end))
        .order_by(Completion.completed_on, Completion.id)
        .limit(limit + 1)
    )
    if department is not None:
        query = query.where(Employee.department_id.in_(subtree_id_list(db_session, [department])))
    if after is not None:
        day, last_id = decode_cursor(after, date, int)
        query = query.where(tuple_(Completion.completed_on, Completion.id) > (day, last_id))
    rows = list(db_session.execute(query))
    return _page(rows, limit, lambda r: (r.completed_on, r.id))


def attendance_page(
    db_session: DbSession,
    *,
    start: date,
    end: date,
    department: Department | None,
    after: str | None,
    limit: int,
) -> tuple[list[Row[Any]], str | None]:
    """Who is booked on or took part in dates between two days (Berlin), by start and id."""
    first = datetime.combine(start, time.min, BERLIN).astimezone(UTC)
    last = datetime.combine(end + timedelta(days=1), time.min, BERLIN).astimezone(UTC)
    query = (
        select(
            Enrolment.id.label("enrolment_id"),
            Employee.id.label("employee_id"),
            Employee.personnel_number,
            Department.code.label("department"),
            Course.code.label("course"),
            CourseSession.starts_at,
            CourseSession.ends_at,
            Enrolment.status,
        )
        .join(CourseSession, CourseSession.id == Enrolment.session_id)
        .join(Course, Course.id == CourseSession.course_id)
        .join(Employee, Employee.id == Enrolment.employee_id)
        .join(Department, Department.id == Employee.department_id)
        .where(
            CourseSession.starts_at >= first,
            CourseSession.starts_at < last,
            CourseSession.cancelled_at.is_(None),
            Enrolment.status.in_(SEATED_STATUSES),
        )
        .order_by(CourseSession.starts_at, Enrolment.id)
        .limit(limit + 1)
    )
    if department is not None:
        query = query.where(Employee.department_id.in_(subtree_id_list(db_session, [department])))
    if after is not None:
        starts, last_id = decode_cursor(after, str, int)
        try:
            starts_at = datetime.fromisoformat(starts)
        except ValueError as error:
            raise BadCursor(after) from error
        if starts_at.tzinfo is None:
            raise BadCursor(after)
        query = query.where(
            or_(
                CourseSession.starts_at > starts_at,
                and_(CourseSession.starts_at == starts_at, Enrolment.id > last_id),
            )
        )
    rows = list(db_session.execute(query))
    return _page(rows, limit, lambda r: (r.starts_at.isoformat(), r.enrolment_id))


def people_page(
    db_session: DbSession,
    *,
    department: Department | None,
    today: date,
    due_soon_days: int,
    status: str | None,
    after: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """Each person's status per active requirement in a subtree, by person and requirement."""
    rows = status_query(
        today=today,
        due_soon_days=due_soon_days,
        department_ids=None if department is None else subtree_id_list(db_session, [department]),
    ).subquery()
    query = (
        select(
            rows.c.employee_id,
            rows.c.requirement_id,
            rows.c.status,
            rows.c.due_date,
            rows.c.valid_until,
            Employee.personnel_number,
            Employee.first_name,
            Employee.last_name,
            Department.code.label("department"),
            Requirement.name.label("requirement"),
        )
        .select_from(rows)
        .join(Employee, Employee.id == rows.c.employee_id)
        .join(Department, Department.id == Employee.department_id)
        .join(Requirement, Requirement.id == rows.c.requirement_id)
        .order_by(rows.c.employee_id, rows.c.requirement_id)
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(rows.c.status == status)
    if after is not None:
        employee_id, requirement_id = decode_cursor(after, int, int)
        query = query.where(
            tuple_(rows.c.employee_id, rows.c.requirement_id) > (employee_id, requirement_id)
        )
    found = list(db_session.execute(query))
    page, cursor = _page(found, limit, lambda r: (r.employee_id, r.requirement_id))
    return [
        {
            "employee_id": r.employee_id,
            "personnel_number": r.personnel_number,
            "first_name": r.first_name,
            "last_name": r.last_name,
            "department": r.department,
            "requirement_id": r.requirement_id,
            "requirement": r.requirement,
            "status": r.status,
            "due_date": limited(r.due_date),
            "valid_until": limited(r.valid_until),
        }
        for r in page
    ], cursor


def berlin_day(moment: datetime) -> date:
    """The calendar day of a moment in Berlin (as a date's day is shown everywhere)."""
    return moment.astimezone(BERLIN).date()


def limited(value: date | None) -> date | None:
    """A date, or None for "never" (the status rules' far-future stand-in)."""
    if value is None or never_expires(value):
        return None
    return value


def _page(rows: Sequence[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    page = list(rows[:limit])
    if len(rows) <= limit:
        return page, None
    return page, encode_cursor(*key(page[-1]))

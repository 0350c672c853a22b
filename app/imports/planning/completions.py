"""Planning a file of past completions: who finished which course on which day.

A completion already recorded (same person, course and day) is not added twice; only its
certificate reference is updated when the file has that column.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import select

from app.core.types import DbSession
from app.courses.models import Completion, Course
from app.courses.services.attendance import valid_until
from app.imports.planning.cells import Row
from app.imports.planning.plan import Change, Plan, Planner
from app.staff.models import Employee

#: A completion by who, what and when: (employee id, course id, completed on).
Key = tuple[int, int, date]

#: A completion in the database: (its id, its certificate reference), unpacked where it is
#: read. A plain tuple, not a NamedTuple: the garbage collector stops tracking a tuple of plain
#: values (never a tuple subclass), and there may be tens of thousands of completions.
Recorded = tuple[int, str]


class CompletionPlanner(Planner):
    def __init__(
        self,
        db_session: DbSession,
        plan: Plan,
        *,
        today: date,
        full_export: bool,
        keys: Collection[str] | None = None,
    ) -> None:
        super().__init__(db_session, plan, today=today, full_export=full_export, keys=keys)
        people = select(Employee.personnel_number, Employee.id)
        if self.keys is not None:
            people = people.where(Employee.personnel_number.in_(self.keys))
        self.employee_ids: dict[str, int] = dict(self.db_session.execute(people).all())
        courses = list(self.db_session.scalars(select(Course)))
        self.courses = {c.code.casefold(): c for c in courses}
        for course in courses:
            self.courses.setdefault(course.title.casefold(), course)
        self.seen: dict[Key, int] = {}
        self.existing: dict[Key, Recorded] | None = None

    def row(self, line: int, row: Row) -> None:
        number = row.text("personnel_number")
        course_name = row.text("course")
        completed_on = row.date("completed_on")
        reference = row.text("certificate_ref") or ""
        employee_id = course = None
        if number is not None:
            employee_id = self.employee_ids.get(number)
            if employee_id is None:
                row.fail("personnel_number", "unknown_employee", value=number)
        if course_name is not None:
            course = self.courses.get(course_name.casefold())
            if course is None:
                row.fail("course", "unknown_course", value=course_name)
        if completed_on is not None and completed_on > self.today:
            row.fail("completed_on", "future_date", value=completed_on.strftime("%d.%m.%Y"))
        if row.failed:
            return
        # All are required, and each one missing or unknown failed the row.
        assert number is not None and employee_id is not None
        assert course is not None and completed_on is not None
        key = (employee_id, course.id, completed_on)
        if key in self.seen:
            row.fail(None, "duplicate_completion", first_line=self.seen[key])
            return
        self.seen[key] = line
        if not self.plan.ok:
            return
        recorded = self._existing().get(key)
        if recorded is None:
            self.plan.new.append(
                {
                    "employee_id": employee_id,
                    "personnel_number": number,
                    "course_id": course.id,
                    "course": course.code,
                    "completed_on": completed_on,
                    "valid_until": valid_until(course, completed_on),
                    "certificate_ref": reference,
                }
            )
            return
        completion_id, recorded_reference = recorded
        if row.has("certificate_ref") and recorded_reference != reference:
            self.plan.updated.append(
                Change(
                    completion_id,
                    number,
                    f"{course.code} {completed_on.strftime('%d.%m.%Y')}",
                    {"certificate_ref": (recorded_reference, reference)},
                    {"certificate_ref": reference},
                )
            )
        else:
            self.plan.unchanged += 1

    def _existing(self) -> dict[Key, Recorded]:
        """The completions recorded so far (read once the file has no problems)."""
        if self.existing is None:
            query = select(
                Completion.id,
                Completion.employee_id,
                Completion.course_id,
                Completion.completed_on,
                Completion.certificate_ref,
            )
            if self.keys is not None:
                query = query.where(Completion.employee_id.in_(list(self.employee_ids.values())))
            recorded = self.db_session.execute(query)
            self.existing = {
                (employee_id, course_id, completed_on): (completion_id, reference)
                for completion_id, employee_id, course_id, completed_on, reference in recorded
            }
        return self.existing

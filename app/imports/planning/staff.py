"""Planning a staff file: new people, changes field by field, and who is deactivated.

Someone is deactivated when their exit date has passed or, for a complete staff list, when they
are missing from it. Only the columns the file has are compared: a file without e-mail addresses
leaves everyone's address as it is.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import select

from app.core.types import DbSession
from app.imports.planning.cells import Row
from app.imports.planning.plan import Change, Plan, Planner, Problem, Value
from app.staff.models import Department, Employee

#: The fields compared with the database (the personnel number is the key).
FIELDS = ("first_name", "last_name", "email", "department", "position", "entry_date", "exit_date")


class StaffPlanner(Planner):
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
        codes: dict[str, int] = dict(
            self.db_session.execute(select(Department.code, Department.id)).all()
        )
        self.department_ids = codes
        self.department_ids_folded = {code.casefold(): ident for code, ident in codes.items()}
        self.department_codes = {ident: code for code, ident in codes.items()}
        people = select(
            Employee.id,
            Employee.personnel_number,
            Employee.first_name,
            Employee.last_name,
            Employee.email,
            Employee.department_id,
            Employee.position,
            Employee.entry_date,
            Employee.exit_date,
            Employee.on_staff_since,
            Employee.active,
        )
        if self.keys is not None:
            people = people.where(Employee.personnel_number.in_(self.keys))
        self.existing = {row.personnel_number: row for row in self.db_session.execute(people)}
        self.seen: dict[str, int] = {}
        self.present = [name for name in FIELDS if name in self.plan.match.positions]

    def row(self, line: int, row: Row) -> None:
        number = row.text("personnel_number")
        first_name = row.text("first_name")
        last_name = row.text("last_name")
        position = row.text("position")
        email = row.email("email")
        code = row.text("department")
        department_id = None
        if code is not None:
            department_id = self.department_ids.get(code) or self.department_ids_folded.get(
                code.casefold()
            )
            if department_id is None:
                row.fail("department", "unknown_department", value=code)
        entry_date = row.date("entry_date")
        exit_date = row.date("exit_date")
        if entry_date is not None and exit_date is not None and exit_date < entry_date:
            row.fail("exit_date", "exit_before_entry")
        if number is not None:
            if number in self.seen:
                row.fail(
                    "personnel_number",
                    "duplicate_personnel_number",
                    value=number,
                    first_line=self.seen[number],
                )
            else:
                self.seen[number] = line
        if row.failed or not self.plan.ok:
            return  # once there is an error nothing is imported: only keep checking
        assert number is not None  # required: a row without one failed
        active = exit_date is None or exit_date >= self.today
        current = self.existing.get(number)
        if current is None:
            self.plan.new.append(
                {
                    "personnel_number": number,
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": email,
                    "department_id": department_id,
                    "position": position,
                    "entry_date": entry_date,
                    "exit_date": exit_date,
                    "active": active,
                }
            )
            if entry_date is None and active:
                self._warn_no_entry_date(line, None)
            return
        entry = entry_date if "entry_date" in self.present else current.entry_date
        exit_ = exit_date if "exit_date" in self.present else current.exit_date
        if entry is not None and exit_ is not None and exit_ < entry:
            row.fail("exit_date", "exit_before_entry")
            return
        if entry is None and active:
            self._warn_no_entry_date(line, current.on_staff_since)
        values: dict[str, Value] = {
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "department": department_id,
            "position": position,
            "entry_date": entry_date,
            "exit_date": exit_date,
        }
        changes: dict[str, tuple[Value, Value]] = {}
        new_values: dict[str, Value] = {}
        for name in self.present:
            old = current.department_id if name == "department" else getattr(current, name)
            new = values[name]
            if (old or None) != (new or None):
                if name == "department":
                    changes[name] = (self.department_codes.get(old), code)
                    new_values["department_id"] = new
                else:
                    changes[name] = (_shown(old), _shown(new))
                    new_values[name] = new
        if current.active != active:
            changes["active"] = (current.active, active)
            new_values["active"] = active
        label = f"{first_name} {last_name}"
        if current.active and not active:
            self.plan.deactivated.append(
                Change(current.id, number, label, changes, new_values, reason="exit_date")
            )
        elif changes:
            self.plan.updated.append(Change(current.id, number, label, changes, new_values))
        else:
            self.plan.unchanged += 1

    def _warn_no_entry_date(self, line: int, on_staff_since: date | None) -> None:
        """Someone stays without an entry date: deadlines counted from entry count from the
        day the first import brought them (``Employee.on_staff_since``) instead."""
        header = self.plan.match.headers.get("entry_date")
        if on_staff_since is None:
            self.plan.add_warning(Problem("no_entry_date_new", line=line, column=header))
        else:
            self.plan.add_warning(
                Problem(
                    "no_entry_date",
                    line=line,
                    column=header,
                    params={"date": on_staff_since.isoformat()},
                )
            )

    def finish(self) -> None:
        self.plan.active_before = sum(1 for row in self.existing.values() if row.active)
        if not self.full_export or not self.plan.ok:
            return
        for number, current in self.existing.items():
            if current.active and number not in self.seen:
                label = f"{current.first_name} {current.last_name}"
                self.plan.deactivated.append(
                    Change(
                        current.id,
                        number,
                        label,
                        {"active": (True, False)},
                        {"active": False},
                        reason="missing",
                    )
                )


def _shown(value: Value) -> Value:
    """A value as the preview stores it (JSON): dates as ISO text."""
    if isinstance(value, date):
        return value.isoformat()
    return value

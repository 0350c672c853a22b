"""Checking a file against the database: every problem with its line and column, and what an
import would change (new, updated field by field, deactivated).

A plan is computed in full before anything is written, so a file with one bad row imports
nothing. The same plan is the preview, the CLI's ``--dry-run`` and what ``applying`` writes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from app.auth.models import User
from app.core.types import DbSession
from app.courses.models import Completion, Course
from app.courses.services.attendance import valid_until
from app.imports.columns import Column, HeaderMatch, columns_of, match_headers
from app.imports.models import ImportKind
from app.imports.reading import FileProblem, Table
from app.staff.models import Department, Employee

#: Problems kept for the report; the count covers all of them.
PROBLEMS_KEPT = 1000
#: Progress is reported every this many rows.
PROGRESS_EVERY = 1000

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y")
#: First characters with which a spreadsheet would read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")


@dataclass
class Problem:
    """One thing wrong with the file: where (line, column header) and what (a message code)."""

    code: str
    line: int | None = None
    column: str | None = None
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"code": self.code, "line": self.line, "column": self.column, "params": self.params}


@dataclass
class Plan:
    """What importing a file would do. ``new``/``updated`` hold the values to write."""

    kind: str
    match: HeaderMatch | None = None
    #: The kind's columns by field name (looked up once per cell).
    columns: dict[str, Column] = field(default_factory=dict)
    format: str = ""  # "csv" or "xlsx"
    headers: list[str] = field(default_factory=list)
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[Problem] = field(default_factory=list)
    new: list[dict] = field(default_factory=list)
    #: (id, key, label, {field: (old, new)}, {column: new value})
    updated: list[tuple[int, str, str, dict, dict]] = field(default_factory=list)
    #: (id, key, label, reason, {column: new value})
    deactivated: list[tuple[int, str, str, str, dict]] = field(default_factory=list)
    unchanged: int = 0
    #: Staff: how many were active before (to judge how many the file deactivates).
    active_before: int = 0
    #: Department heads to record: (department code, user id).
    heads: list[tuple[str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def needs_mapping(self) -> bool:
        return self.match is not None and bool(self.match.missing) and bool(self.match.unknown)

    def add_problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(problem)

    def fingerprint(self) -> str:
        """A hash of the changes: the preview and the confirmed import must agree."""
        changes = {
            "new": self.new,
            "updated": [(u[0], u[3], u[4]) for u in self.updated],
            "deactivated": [(d[0], d[4]) for d in self.deactivated],
            "heads": self.heads,
        }
        text = json.dumps(changes, default=str, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


Progress = Callable[[int, int], None]


def build_plan(
    db_session: DbSession,
    *,
    kind: str,
    table: Table,
    mapping: dict[str, str],
    full_export: bool,
    today: date,
    on_progress: Progress | None = None,
) -> Plan:
    """Check ``table`` and work out its changes; reads the database, writes nothing."""
    plan = Plan(kind=kind, columns={c.name: c for c in columns_of(kind)})
    plan.match = match_headers(kind, table.headers, mapping)
    # Named as the template names them (the German header, then the field): the report is
    # stored once and read in either language.
    for name in plan.match.missing:
        col = plan.columns[name]
        plan.add_problem(
            Problem(
                "missing_column", column=col.german, params={"column": f"{col.german} ({name})"}
            )
        )
    for name in plan.match.duplicates:
        col = plan.columns[name]
        plan.add_problem(
            Problem(
                "duplicate_column", column=col.german, params={"column": f"{col.german} ({name})"}
            )
        )
    if not plan.ok:
        return plan
    planner = {
        ImportKind.DEPARTMENTS: _DepartmentPlanner,
        ImportKind.STAFF: _StaffPlanner,
        ImportKind.COMPLETIONS: _CompletionPlanner,
    }[ImportKind(kind)](db_session, plan, today=today, full_export=full_export)
    total = max(table.estimated_rows, 1)
    try:
        for line, cells in table.rows:
            plan.rows += 1
            planner.row(line, _Row(plan, line, cells))
            if on_progress is not None and plan.rows % PROGRESS_EVERY == 0:
                on_progress(plan.rows, max(total, plan.rows))
    except FileProblem as problem:
        plan.add_problem(
            Problem(problem.code, line=problem.params.get("line"), params=problem.params)
        )
        return plan
    if plan.rows == 0:
        plan.add_problem(Problem("no_rows"))
        return plan
    planner.finish()
    return plan


class _Row:
    """The cells of one row, read by field name, each check recording its problem."""

    def __init__(self, plan: Plan, line: int, cells: list[str]):
        self.plan, self.line, self.cells = plan, line, cells
        self.failed = False

    def has(self, name: str) -> bool:
        return name in self.plan.match.positions

    def fail(self, name: str | None, code: str, **params) -> None:
        self.failed = True
        header = self.plan.match.headers.get(name) if name else None
        self.plan.add_problem(Problem(code, line=self.line, column=header, params=params))

    def text(self, name: str) -> str | None:
        """The cell's text (stripped), None when empty or absent; checks length and formulas."""
        index = self.plan.match.positions.get(name)
        if index is None or index >= len(self.cells):
            value = ""
        else:
            value = " ".join(self.cells[index].split())
            if value in ("-", "–", "—"):
                value = ""  # a dash for "none", as HR systems write it
        col = self.plan.columns[name]
        if not value:
            if col.required:
                self.fail(name, "required")
            return None
        if value.startswith(FORMULA_STARTS) and not _is_number(value):
            self.fail(name, "formula", value=value[:40])
            return None
        if len(value) > col.max_length:
            self.fail(name, "too_long", limit=col.max_length)
            return None
        return value

    def date(self, name: str) -> date | None:
        value = self.text(name)
        if value is None:
            return None
        day, _, rest = value.partition(".")
        month, _, year = rest.partition(".")
        if len(year) == 4 and day.isdigit() and month.isdigit() and year.isdigit():
            try:  # dd.mm.yyyy, the common case, without strptime
                return date(int(year), int(month), int(day))
            except ValueError:
                pass  # e.g. 31.02.2021: reported below
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(value, pattern).date()
            except ValueError:
                continue
        self.fail(name, "bad_date", value=value[:40])
        return None


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", "."))
    except ValueError:
        return False
    return True


def _folded(values: dict[str, int]) -> dict[str, int]:
    """Codes looked up case-insensitively (``fb-51`` finds ``FB-51``)."""
    return {code.casefold(): ident for code, ident in values.items()}


class _Planner:
    def __init__(self, db_session: DbSession, plan: Plan, *, today: date, full_export: bool):
        self.db_session, self.plan, self.today, self.full_export = (
            db_session,
            plan,
            today,
            full_export,
        )

    def row(self, line: int, row: _Row) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self) -> None:
        pass


class _StaffPlanner(_Planner):
    FIELDS = (
        "first_name",
        "last_name",
        "email",
        "department",
        "position",
        "entry_date",
        "exit_date",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = dict(self.db_session.execute(select(Department.code, Department.id)).all())
        self.department_ids = codes
        self.department_ids_folded = _folded(codes)
        self.department_codes = {ident: code for code, ident in codes.items()}
        self.existing = {
            row.personnel_number: row
            for row in self.db_session.execute(
                select(
                    Employee.id,
                    Employee.personnel_number,
                    Employee.first_name,
                    Employee.last_name,
                    Employee.email,
                    Employee.department_id,
                    Employee.position,
                    Employee.entry_date,
                    Employee.exit_date,
                    Employee.active,
                )
            )
        }
        self.seen: dict[str, int] = {}
        self.present = [name for name in self.FIELDS if name in self.plan.match.positions]

    def row(self, line: int, row: _Row) -> None:
        number = row.text("personnel_number")
        values = {name: row.text(name) for name in ("first_name", "last_name", "position")}
        email = row.text("email")
        if email is not None:
            email = email.lower()
            if not EMAIL.match(email):
                row.fail("email", "bad_email", value=email[:60])
        values["email"] = email
        code = row.text("department")
        department_id = None
        if code is not None:
            department_id = self.department_ids.get(code) or self.department_ids_folded.get(
                code.casefold()
            )
            if department_id is None:
                row.fail("department", "unknown_department", value=code)
        values["department"] = department_id
        values["entry_date"] = row.date("entry_date")
        values["exit_date"] = row.date("exit_date")
        if (
            values["entry_date"] is not None
            and values["exit_date"] is not None
            and values["exit_date"] < values["entry_date"]
        ):
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
        active = values["exit_date"] is None or values["exit_date"] >= self.today
        current = self.existing.get(number)
        if current is None:
            self.plan.new.append(
                {
                    "personnel_number": number,
                    "first_name": values["first_name"],
                    "last_name": values["last_name"],
                    "email": values["email"],
                    "department_id": department_id,
                    "position": values["position"],
                    "entry_date": values["entry_date"],
                    "exit_date": values["exit_date"],
                    "active": active,
                }
            )
            return
        entry = values["entry_date"] if "entry_date" in self.present else current.entry_date
        exit_ = values["exit_date"] if "exit_date" in self.present else current.exit_date
        if entry is not None and exit_ is not None and exit_ < entry:
            row.fail("exit_date", "exit_before_entry")
            return
        changes, new_values = {}, {}
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
        label = f"{values['first_name']} {values['last_name']}"
        if current.active and not active:
            self.plan.deactivated.append((current.id, number, label, "exit_date", new_values))
        elif changes:
            self.plan.updated.append((current.id, number, label, changes, new_values))
        else:
            self.plan.unchanged += 1

    def finish(self) -> None:
        self.plan.active_before = sum(1 for row in self.existing.values() if row.active)
        if not self.full_export or not self.plan.ok:
            return
        for number, current in self.existing.items():
            if current.active and number not in self.seen:
                label = f"{current.first_name} {current.last_name}"
                self.plan.deactivated.append(
                    (current.id, number, label, "missing", {"active": False})
                )


class _DepartmentPlanner(_Planner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing = {
            row.code: row
            for row in self.db_session.execute(
                select(Department.id, Department.code, Department.name, Department.parent_id)
            )
        }
        self.code_of = {row.id: row.code for row in self.existing.values()}
        self.canonical = {code.casefold(): code for code in self.existing}
        self.rows: dict[str, tuple[int, str, str | None, str | None, bool]] = {}
        self.seen: dict[str, int] = {}

    def _code(self, value: str | None) -> str | None:
        """A code as the database spells it, or as written when it is new."""
        if value is None:
            return None
        return self.canonical.get(value.casefold(), value)

    def row(self, line: int, row: _Row) -> None:
        code = self._code(row.text("code"))
        name = row.text("name")
        parent = self._code(row.text("parent"))
        head = row.text("head")
        if code is not None:
            if code.casefold() in self.seen:
                row.fail(
                    "code", "duplicate_code", value=code, first_line=self.seen[code.casefold()]
                )
                return
            self.seen[code.casefold()] = line
            if parent is not None and parent.casefold() == code.casefold():
                row.fail("parent", "own_parent")
        if code is not None:
            self.rows[code] = (line, name, parent, head, row.failed)

    def finish(self) -> None:
        file_codes = {code.casefold(): code for code in self.rows}
        # the tree as it will be: the file's parents win over the database's
        final_parent = {
            code: self.code_of.get(row.parent_id) for code, row in self.existing.items()
        }
        for code, (line, _name, parent, _head, failed) in self.rows.items():
            if failed:
                continue  # its problem is reported already
            if (
                parent is not None
                and parent.casefold() not in file_codes
                and (parent not in self.existing)
            ):
                self.plan.add_problem(
                    Problem(
                        "unknown_parent",
                        line=line,
                        column=self.plan.match.headers.get("parent"),
                        params={"value": parent},
                    )
                )
                continue
            if not self.plan.match.headers.get("parent") and code in self.existing:
                continue  # no parent column: an existing department stays where it is
            final_parent[code] = file_codes.get(parent.casefold(), parent) if parent else None
        for code, (line, *_rest, failed) in self.rows.items():
            loop = [] if failed else _loop_from(code, final_parent)
            if loop:
                self.plan.add_problem(
                    Problem(
                        "cycle",
                        line=line,
                        column=self.plan.match.headers.get("parent"),
                        params={"value": " → ".join(loop)},
                    )
                )
        if not self.plan.ok:
            return
        depth = {code: len(_chain(code, final_parent)) for code in final_parent}
        for code in sorted(self.rows, key=lambda c: (depth[c], c)):
            _line, name, _parent, head, _failed = self.rows[code]
            parent = final_parent.get(code)
            current = self.existing.get(code)
            if current is None:
                self.plan.new.append({"code": code, "name": name, "parent": parent})
            else:
                changes, values = {}, {}
                if name != current.name:
                    changes["name"], values["name"] = (current.name, name), name
                old_parent = self.code_of.get(current.parent_id)
                if parent != old_parent:
                    changes["parent"], values["parent"] = (old_parent, parent), parent
                if changes:
                    self.plan.updated.append((current.id, code, name, changes, values))
                else:
                    self.plan.unchanged += 1
            if head is not None:
                self._plan_head(code, head)

    def _plan_head(self, code: str, personnel_number: str) -> None:
        found = self.db_session.execute(
            select(Employee.id, User.id.label("user_id"))
            .outerjoin(User, User.employee_id == Employee.id)
            .where(Employee.personnel_number == personnel_number)
        ).first()
        line = self.rows[code][0]
        header = self.plan.match.headers.get("head")
        if found is None:
            self.plan.warnings.append(
                Problem(
                    "head_unknown", line=line, column=header, params={"value": personnel_number}
                )
            )
        elif found.user_id is None:
            self.plan.warnings.append(
                Problem(
                    "head_without_login",
                    line=line,
                    column=header,
                    params={"value": personnel_number},
                )
            )
        else:
            self.plan.heads.append((code, found.user_id))


def _chain(code: str, parents: dict[str, str | None]) -> list[str]:
    """Ancestors of ``code`` (nearest first); stops at a loop."""
    chain, seen = [], {code}
    parent = parents.get(code)
    while parent is not None and parent not in seen:
        chain.append(parent)
        seen.add(parent)
        parent = parents.get(parent)
    return chain


def _loop_from(code: str, parents: dict[str, str | None]) -> list[str]:
    """The codes of a loop ``code`` belongs to, or []."""
    path, parent = [code], parents.get(code)
    while parent is not None:
        if parent == code:
            return [*path, code]
        if parent in path:
            return []  # a loop further up: reported for its own members
        path.append(parent)
        parent = parents.get(parent)
    return []


class _CompletionPlanner(_Planner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.employee_ids = dict(
            self.db_session.execute(select(Employee.personnel_number, Employee.id)).all()
        )
        courses = list(self.db_session.scalars(select(Course)))
        self.courses = {c.code.casefold(): c for c in courses}
        for course in courses:
            self.courses.setdefault(course.title.casefold(), course)
        self.seen: dict[tuple[int, int, date], int] = {}
        self.existing: dict[tuple[int, int, date], tuple[int, str]] | None = None

    def _existing(self) -> dict[tuple[int, int, date], tuple[int, str]]:
        if self.existing is None:
            self.existing = {
                (row.employee_id, row.course_id, row.completed_on): (row.id, row.certificate_ref)
                for row in self.db_session.execute(
                    select(
                        Completion.id,
                        Completion.employee_id,
                        Completion.course_id,
                        Completion.completed_on,
                        Completion.certificate_ref,
                    )
                )
            }
        return self.existing

    def row(self, line: int, row: _Row) -> None:
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
        key = (employee_id, course.id, completed_on)
        if key in self.seen:
            row.fail(None, "duplicate_completion", first_line=self.seen[key])
            return
        self.seen[key] = line
        if not self.plan.ok:
            return
        current = self._existing().get(key)
        if current is None:
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
        elif row.has("certificate_ref") and current[1] != reference:
            self.plan.updated.append(
                (
                    current[0],
                    number,
                    f"{course.code} {completed_on.strftime('%d.%m.%Y')}",
                    {"certificate_ref": (current[1], reference)},
                    {"certificate_ref": reference},
                )
            )
        else:
            self.plan.unchanged += 1


def _shown(value):
    """A value as the preview stores it (JSON): dates as ISO text."""
    if isinstance(value, date):
        return value.isoformat()
    return value

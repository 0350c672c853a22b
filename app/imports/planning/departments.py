"""Planning a departments file: codes, names, the tree (parents) and department heads.

A department's parent may come later in the file, so the tree is checked once all rows are read:
unknown parents, loops, then the changes in tree order (parents before their children).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import NamedTuple

from sqlalchemy import select

from app.auth.models import User
from app.core.types import DbSession
from app.imports.planning.cells import Row
from app.imports.planning.plan import Change, Head, Plan, Planner, Problem, Value
from app.staff.models import Department, Employee


class _FileRow(NamedTuple):
    """A department as the file has it (a failed row is kept for its line)."""

    line: int
    name: str | None
    parent: str | None
    head: str | None
    failed: bool


class DepartmentPlanner(Planner):
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
        self.existing = {
            row.code: row
            for row in self.db_session.execute(
                select(Department.id, Department.code, Department.name, Department.parent_id)
            )
        }
        self.code_of: dict[int, str] = {row.id: row.code for row in self.existing.values()}
        self.canonical: dict[str, str] = {code.casefold(): code for code in self.existing}
        self.rows: dict[str, _FileRow] = {}
        self.seen: dict[str, int] = {}

    def row(self, line: int, row: Row) -> None:
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
            self.rows[code] = _FileRow(line, name, parent, head, row.failed)

    def finish(self) -> None:
        file_codes = {code.casefold(): code for code in self.rows}
        # the tree as it will be: the file's parents win over the database's
        final_parent = {
            code: self.code_of.get(row.parent_id) for code, row in self.existing.items()
        }
        for code, file_row in self.rows.items():
            if file_row.failed:
                continue  # its problem is reported already
            parent = file_row.parent
            if (
                parent is not None
                and parent.casefold() not in file_codes
                and (parent not in self.existing)
            ):
                self._problem("unknown_parent", file_row.line, value=parent)
                continue
            if not self.plan.match.headers.get("parent") and code in self.existing:
                continue  # no parent column: an existing department stays where it is
            final_parent[code] = file_codes.get(parent.casefold(), parent) if parent else None
        for code, file_row in self.rows.items():
            loop = [] if file_row.failed else _loop_from(code, final_parent)
            if loop:
                self._problem("cycle", file_row.line, value=" → ".join(loop))
        if not self.plan.ok:
            return
        depth = {code: len(_chain(code, final_parent)) for code in final_parent}
        for code in sorted(self.rows, key=lambda c: (depth[c], c)):
            self._plan_department(code, self.rows[code], final_parent.get(code))

    def _code(self, value: str | None) -> str | None:
        """A code as the database spells it, or as written when it is new."""
        if value is None:
            return None
        return self.canonical.get(value.casefold(), value)

    def _problem(self, code: str, line: int, *, value: str) -> None:
        column = self.plan.match.headers.get("parent")
        self.plan.add_problem(Problem(code, line=line, column=column, params={"value": value}))

    def _plan_department(self, code: str, file_row: _FileRow, parent: str | None) -> None:
        name = file_row.name
        assert name is not None  # required: a row without one failed, and nothing is planned
        current = self.existing.get(code)
        if current is None:
            self.plan.new.append({"code": code, "name": name, "parent": parent})
        else:
            changes: dict[str, tuple[Value, Value]] = {}
            values: dict[str, Value] = {}
            if name != current.name:
                changes["name"], values["name"] = (current.name, name), name
            old_parent = self.code_of.get(current.parent_id)
            if parent != old_parent:
                changes["parent"], values["parent"] = (old_parent, parent), parent
            if changes:
                self.plan.updated.append(Change(current.id, code, name, changes, values))
            else:
                self.plan.unchanged += 1
        if file_row.head is not None:
            self._plan_head(code, file_row.line, file_row.head)

    def _plan_head(self, code: str, line: int, personnel_number: str) -> None:
        found = self.db_session.execute(
            select(Employee.id, User.id.label("user_id"))
            .outerjoin(User, User.employee_id == Employee.id)
            .where(Employee.personnel_number == personnel_number)
        ).first()
        header = self.plan.match.headers.get("head")
        if found is None:
            self.plan.add_warning(
                Problem(
                    "head_unknown", line=line, column=header, params={"value": personnel_number}
                )
            )
        elif found.user_id is None:
            self.plan.add_warning(
                Problem(
                    "head_without_login",
                    line=line,
                    column=header,
                    params={"value": personnel_number},
                )
            )
        else:
            self.plan.heads.append(Head(code, found.user_id))


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

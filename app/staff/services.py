"""Rules of the organisation tree and the staff list.

The tree is kept as a materialised path (``/1/4/17/``): a subtree is one indexed prefix match,
on SQLite and PostgreSQL alike, however deep the tree and however many departments it has.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select, update

from app.core.roles import Role
from app.core.types import DbSession
from app.staff.models import Department, Employee


class Viewer(Protocol):
    """Who looks at the organisation: a login with roles and the departments it heads."""

    @property
    def headed_departments(self) -> Sequence[Department]: ...

    def has_role(self, *roles: Role) -> bool: ...


class DepartmentError(ValueError):
    """A change to the tree that would break it."""


class DuplicateDepartmentCode(DepartmentError):
    pass


class DepartmentCycle(DepartmentError):
    pass


def create_department(
    db_session: DbSession, *, code: str, name: str, parent: Department | None = None
) -> Department:
    """Add a department below ``parent`` (or as a root) and give it its path."""
    code = code.strip()
    if db_session.scalar(select(Department.id).where(Department.code == code)) is not None:
        raise DuplicateDepartmentCode(code)
    department = Department(code=code, name=name.strip(), parent=parent)
    db_session.add(department)
    db_session.flush()
    department.path = f"{parent.path if parent else '/'}{department.id}/"
    department.depth = parent.depth + 1 if parent else 0
    db_session.flush()
    return department


def move_department(
    db_session: DbSession, department: Department, new_parent: Department | None
) -> None:
    """Hang ``department`` and its subtree below ``new_parent``, rewriting paths in one UPDATE."""
    if new_parent is not None and new_parent.path.startswith(department.path):
        raise DepartmentCycle(department.code)
    old_path = department.path
    new_path = f"{new_parent.path if new_parent else '/'}{department.id}/"
    depth_change = (new_parent.depth + 1 if new_parent else 0) - department.depth
    db_session.execute(
        update(Department)
        .where(Department.path.like(f"{old_path}%"))
        .values(
            path=new_path + func.substr(Department.path, len(old_path) + 1),
            depth=Department.depth + depth_change,
        )
        .execution_options(synchronize_session=False)
    )
    department.parent_id = new_parent.id if new_parent else None
    db_session.flush()
    db_session.expire_all()


def subtree_condition(roots: Iterable[Department]) -> ColumnElement[bool]:
    """A WHERE clause matching every department in the subtrees of ``roots``."""
    paths = sorted({root.path for root in roots})
    if not paths:
        return Department.id.is_(None)  # matches nothing
    return or_(*(Department.path.like(f"{path}%") for path in paths))


def subtree_ids(roots: Iterable[Department]) -> Select[int]:
    """A subquery of the ids of all departments in the subtrees of ``roots``."""
    return select(Department.id).where(subtree_condition(roots))


def subtree_id_list(db_session: DbSession, roots: Iterable[Department]) -> list[int]:
    """The ids of all departments in the subtrees of ``roots``, as a list: a query filtering
    many rows by them is planned with the ids at hand (at 500,000 staff, PostgreSQL chose a
    far slower plan for the subquery of ``subtree_ids``)."""
    return list(db_session.scalars(subtree_ids(roots)))


def list_subtree(db_session: DbSession, roots: Iterable[Department]) -> list[Department]:
    """The departments of the given subtrees, in tree order."""
    return list(
        db_session.scalars(
            select(Department).where(subtree_condition(roots)).order_by(Department.path)
        )
    )


def list_roots(db_session: DbSession) -> list[Department]:
    return list(
        db_session.scalars(
            select(Department).where(Department.parent_id.is_(None)).order_by(Department.code)
        )
    )


def ancestors(db_session: DbSession, department: Department) -> list[Department]:
    """The chain from the root down to the parent of ``department``."""
    ids = [int(part) for part in department.path.strip("/").split("/")[:-1] if part]
    if not ids:
        return []
    found = {d.id: d for d in db_session.scalars(select(Department).where(Department.id.in_(ids)))}
    return [found[i] for i in ids]


def department_scope(viewer: Viewer) -> list[Department] | None:
    """The departments whose subtrees the viewer may see: None means the whole city."""
    if viewer.has_role(Role.HR):
        return None
    if viewer.has_role(Role.HEAD):
        return list(viewer.headed_departments)
    return []


def may_see_department(viewer: Viewer, department: Department) -> bool:
    """True when the department lies in the viewer's scope (heads: their subtrees only)."""
    scope = department_scope(viewer)
    if scope is None:
        return True
    return is_within(department, scope)


def is_within(department: Department, roots: Sequence[Department]) -> bool:
    """True when ``department`` lies in the subtree of one of ``roots``."""
    return any(department.path.startswith(root.path) for root in roots)


def headcounts(
    db_session: DbSession, departments: Sequence[Department]
) -> dict[int, tuple[int, int]]:
    """Active employees per department: (own, whole subtree), computed in SQL in one query."""
    if not departments:
        return {}
    ids = [d.id for d in departments]
    own = (
        select(Employee.department_id, func.count(Employee.id))
        .where(Employee.active.is_(True), Employee.department_id.in_(ids))
        .group_by(Employee.department_id)
    )
    own_counts: dict[int, int] = dict(db_session.execute(own).all())
    outer = Department.__table__.alias("outer_department")
    inner = Department.__table__.alias("inner_department")
    rolled = (
        select(outer.c.id, func.count(Employee.id))
        .select_from(outer)
        .join(inner, inner.c.path.like(outer.c.path + "%"))
        .join(Employee, (Employee.department_id == inner.c.id) & Employee.active.is_(True))
        .where(outer.c.id.in_(ids))
        .group_by(outer.c.id)
    )
    rolled_counts: dict[int, int] = dict(db_session.execute(rolled).all())
    return {i: (own_counts.get(i, 0), rolled_counts.get(i, 0)) for i in ids}


class TreeNode(NamedTuple):
    department: Department
    #: Its children when they are not listed below it (more than a page): their number.
    hidden_children: int


def collapsed_tree(departments: Sequence[Department], *, most_children: int) -> list[TreeNode]:
    """The departments of ``list_subtree`` (in tree order) without the children of those with
    more than ``most_children``: a unit of hundreds of departments is one row saying how many
    it has (its page lists them a page at a time), the rest of the tree stays as it is."""
    listed = {department.id for department in departments}
    children: dict[int, int] = {}
    for department in departments:
        if department.parent_id in listed:  # not a root of the tree shown
            children[department.parent_id] = children.get(department.parent_id, 0) + 1
    collapsed = {parent for parent, count in children.items() if count > most_children}
    hidden_paths: list[str] = []
    tree: list[TreeNode] = []
    for department in departments:
        if any(department.path.startswith(path) for path in hidden_paths[-1:]):
            continue  # tree order: a hidden subtree's departments follow it directly
        if department.parent_id in collapsed:
            hidden_paths.append(department.path)
            continue
        hidden = children.get(department.id, 0) if department.id in collapsed else 0
        tree.append(TreeNode(department, hidden))
    return tree


def search_employees(
    db_session: DbSession,
    *,
    roots: Sequence[Department] | None = None,
    text: str = "",
    include_inactive: bool = False,
) -> Select[Employee]:
    """A query for employees, limited to the subtrees of ``roots`` when given, by name/number."""
    query = select(Employee).join(Employee.department)
    if roots is not None:
        query = query.where(subtree_condition(roots))
    if not include_inactive:
        query = query.where(Employee.active.is_(True))
    if text.strip():
        query = query.where(employee_matches(text))
    return query.order_by(Employee.last_name, Employee.first_name, Employee.id)


def employee_matches(text: str, *, with_department: bool = False) -> ColumnElement[bool]:
    """A WHERE clause for people whose name ("Anna Weber" or "Weber, Anna" too), personnel
    number or e-mail contains ``text`` (and, ``with_department``, their department's name: the
    query must join it), whatever the case."""
    pattern = f"%{text.strip().lower()}%"
    columns = [
        Employee.last_name,
        Employee.first_name,
        Employee.first_name + " " + Employee.last_name,
        Employee.last_name + ", " + Employee.first_name,
        Employee.personnel_number,
        Employee.email,
    ]
    if with_department:
        columns.append(Department.name)
    return or_(*(func.lower(column).like(pattern) for column in columns))


def find_department(db_session: DbSession, code: str) -> Department | None:
    return db_session.scalar(select(Department).where(Department.code == code))


def find_department_by_code(db_session: DbSession, code: str) -> Department | None:
    """The department ``code`` names, read as the imports read a code: spaces collapsed (the
    import stores `` FB 1 `` as ``FB 1``), the exact code first, else one differing in case
    only (the import matches codes regardless of case)."""
    code = " ".join(code.split())
    if not code or "\x00" in code:
        return None
    found = find_department(db_session, code)
    if found is None:
        found = db_session.scalar(
            select(Department)
            .where(func.lower(Department.code) == code.lower())
            .order_by(Department.id)
            .limit(1)
        )
    return found


def find_employee(db_session: DbSession, personnel_number: str) -> Employee | None:
    return db_session.scalar(select(Employee).where(Employee.personnel_number == personnel_number))

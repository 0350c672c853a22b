"""Routes of the staff area: the department tree and staff lists, limited to the viewer's scope."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from app.core.audit import record_access
from app.core.audit_trail import commit_access_log
from app.core.roles import Role, roles_required
from app.extensions import db
from app.staff import bp, services
from app.staff.models import Department

PAGE_SIZE = 50


@bp.route("/departments")
@roles_required(Role.HEAD, Role.HR, Role.ADMIN)
def departments():
    scope = services.department_scope(current_user)
    roots = scope if scope is not None else services.list_roots(db.session)
    tree = services.list_subtree(db.session, roots)
    return render_template(
        "staff/departments.html", departments=tree, counts=services.headcounts(db.session, tree)
    )


@bp.route("/departments/<code>")
@roles_required(Role.HEAD, Role.HR, Role.ADMIN)
def department(code: str):
    department = services.find_department(db.session, code) or abort(404)
    if not services.may_see_department(current_user, department):
        abort(403)
    return _employee_page(
        "staff/department.html",
        roots=[department],
        department=department,
        ancestors=services.ancestors(db.session, department),
        children=department.children,
        counts=services.headcounts(db.session, [department, *department.children]),
    )


@bp.route("/employees")
@roles_required(Role.HR, Role.ADMIN)
def employees():
    return _employee_page("staff/employees.html", roots=None)


def _employee_page(template: str, *, roots: list[Department] | None, **context):
    text = request.args.get("q", "")
    page = request.args.get("page", 1, type=int)
    query = services.search_employees(db.session, roots=roots, text=text)
    pagination = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    # People lists name people (and link to their status): the access log keeps who saw whom.
    record_access(
        db.session,
        purpose="people_list",
        employee_ids=[employee.id for employee in pagination.items],
        detail=request.full_path.rstrip("?")[:200],
    )
    commit_access_log(db.session)
    return render_template(template, pagination=pagination, q=text, **context)

"""Routes of the staff area: the department tree and staff lists, limited to the viewer's scope."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import current_user

from app.core.audit import commit_access_log, record_access
from app.core.paging import existing, page_number, page_of, page_of_list
from app.core.roles import Role, roles_required
from app.extensions import db
from app.staff import bp, services
from app.staff.models import Department


@bp.route("/departments")
@roles_required(Role.HEAD, Role.HR)
def departments():
    scope = services.department_scope(current_user)
    roots = scope if scope is not None else services.list_roots(db.session)
    # A department with more children than a page holds shows how many, linked to its page.
    tree = services.collapsed_tree(
        services.list_subtree(db.session, roots),
        most_children=current_app.config["DEPARTMENTS_PER_PAGE"],
    )
    return render_template(
        "staff/departments.html",
        tree=tree,
        counts=services.headcounts(db.session, [node.department for node in tree]),
    )


@bp.route("/departments/<code>")
@roles_required(Role.HEAD, Role.HR)
def department(code: str):
    department = services.find_department(db.session, code) or abort(404)
    if not services.may_see_department(current_user, department):
        abort(403)
    children = existing(
        page_of_list(
            department.children,
            number=page_number("departments_page"),
            per_page=current_app.config["DEPARTMENTS_PER_PAGE"],
        )
    )
    return _employee_page(
        "staff/department.html",
        roots=[department],
        department=department,
        ancestors=services.ancestors(db.session, department),
        children=children,
        counts=services.headcounts(db.session, [department, *children.items]),
    )


@bp.route("/employees")
@roles_required(Role.HR)
def employees():
    return _employee_page("staff/employees.html", roots=None)


def _employee_page(template: str, *, roots: list[Department] | None, **context):
    text = request.args.get("q", "")
    query = services.search_employees(db.session, roots=roots, text=text)
    pagination = existing(
        page_of(
            db.session,
            query,
            number=page_number(),
            per_page=current_app.config["PEOPLE_PER_PAGE"],
        )
    )
    # People lists name people (and link to their status): the access log keeps who saw whom.
    record_access(
        db.session,
        purpose="people_list",
        employee_ids=[employee.id for employee in pagination.items],
        detail=request.full_path.rstrip("?")[:200],
    )
    commit_access_log(db.session)
    return render_template(template, pagination=pagination, q=text, **context)

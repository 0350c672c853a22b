"""Coverage pages: heads see their subtree, HR the whole city; drill-down and CSV export."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import roles_required
from app.auth.models import Role
from app.auth.services import department_scope, may_see_department
from app.extensions import db
from app.reports import bp, exports, services
from app.reports.charts import trend_chart
from app.requirements.models import Requirement
from app.requirements.status import Status
from app.staff import services as staff_services


@bp.route("/coverage")
@roles_required(Role.HEAD, Role.HR, Role.ADMIN)
def coverage():
    department, roots, rows_for = _scope()
    rows = services.coverage(
        db.session,
        departments=rows_for,
        scope_roots=roots,
        today=date.today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
        # A chosen department's own row is the total of its scope.
        with_total=department is None,
    )
    by_requirement: dict[Requirement, list] = {}
    for row in rows:
        by_requirement.setdefault(row.requirement, []).append(row)
    # The trend of the area shown: the chosen department, a head's (first) area, or the city.
    trend_of = department or (roots[0] if roots else None)
    trends = services.trend(
        db.session, department=trend_of, requirement_ids=[r.id for r in by_requirement]
    )
    return render_template(
        "reports/coverage.html",
        department=department,
        by_requirement=by_requirement,
        trends=trends,
        charts={rid: trend_chart(points) for rid, points in trends.items()},
        trend_of=trend_of,
        today=date.today(),
    )


@bp.route("/people")
@roles_required(Role.HEAD, Role.HR, Role.ADMIN)
def people():
    department, roots, _rows_for = _scope()
    statuses = [s for s in request.args.getlist("status") if s in set(Status)] or [
        Status.OVERDUE.value,
        Status.DUE_SOON.value,
    ]
    requirement_id = request.args.get("requirement", type=int)
    listed = services.people(
        db.session,
        roots=roots,
        today=date.today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
        statuses=statuses,
        requirement_id=requirement_id,
    )
    return render_template(
        "reports/people.html",
        department=department,
        people=list(listed),
        statuses=statuses,
        requirement=db.session.get(Requirement, requirement_id) if requirement_id else None,
    )


@bp.route("/people.csv")
@roles_required(Role.HEAD, Role.HR, Role.ADMIN)
def people_csv():
    """Everyone in scope with their status, as Excel opens it (``;``, UTF-8 with BOM), streamed."""
    department, roots, _rows_for = _scope()
    today = date.today()
    scope_name = department.name if department else _("whole city")
    rows = services.people(
        db.session,
        roots=roots,
        today=today,
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
        statuses=[s.value for s in Status],
    )

    filename = f"schulungsquote-{department.code if department else 'stadt'}-{today}.csv"
    return Response(
        stream_with_context(exports.people_csv(rows, scope_name=scope_name, today=today)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/people.xlsx")
@roles_required(Role.HEAD, Role.HR, Role.ADMIN)
def people_xlsx():
    """The coverage table and everyone in scope as an Excel workbook."""
    department, roots, rows_for = _scope()
    today = date.today()
    due_soon_days = current_app.config["DUE_SOON_DAYS"]
    body = exports.people_xlsx(
        services.people(
            db.session,
            roots=roots,
            today=today,
            due_soon_days=due_soon_days,
            statuses=[s.value for s in Status],
        ),
        services.coverage(
            db.session,
            departments=rows_for,
            scope_roots=roots,
            today=today,
            due_soon_days=due_soon_days,
            with_total=department is None,
        ),
        scope_name=department.name if department else _("whole city"),
        today=today,
    )
    filename = f"schulungsquote-{department.code if department else 'stadt'}-{today}.xlsx"
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _scope():
    """(chosen department or None, roots to compute over, departments to show as rows).

    Heads see their subtrees only: asking for a department outside them is a 403, not an
    empty report."""
    code = request.args.get("department")
    scope = department_scope(current_user)
    if code:
        department = staff_services.find_department(db.session, code) or abort(404)
        if not may_see_department(current_user, department):
            abort(403)
        return department, [department], [department, *department.children]
    if scope is None:
        return None, None, staff_services.list_roots(db.session)
    return None, scope, list(scope)


bp.add_app_template_filter(exports.status_label, "status_label")
bp.add_app_template_filter(exports.display_date, "report_date")

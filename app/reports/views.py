"""Coverage pages: heads see their subtree, HR the whole city; drill-down and CSV export."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from app.core import page_cache
from app.core.audit import commit_access_log, record_access
from app.core.background import commit_and_start
from app.core.clock import local_today
from app.core.input import db_int
from app.core.paging import existing, page_number, page_of_list
from app.core.roles import Role, roles_required
from app.extensions import db
from app.reports import background, bp, exports, services
from app.reports.charts import coverage_bars, trend_chart
from app.reports.models import ReportFile, ReportStatus
from app.reports.tasks import build_export
from app.requirements import services as requirement_services
from app.requirements import status as requirement_statuses
from app.requirements.facts import current_rebuild
from app.requirements.models import Requirement
from app.requirements.status import Status
from app.staff import services as staff_services
from app.staff.models import Department

MIME_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@bp.route("/coverage")
@roles_required(Role.HEAD, Role.HR)
def coverage():
    department, roots, rows_for = _scope()
    # The same for everyone who may see this scope and asks with these arguments in this
    # language on this day, until the counts, facts, departments or requirements change.
    key = (
        str(get_locale()),
        str(get_timezone()),
        local_today(),
        None if roots is None else sorted(root.id for root in roots),
        [row.id for row in rows_for],
        department.id if department else None,
        page_number(),
        page_number("departments_page"),
        current_app.config["DUE_SOON_DAYS"],
        current_app.config["COVERAGE_REQUIREMENTS_PER_PAGE"],
        current_app.config["DEPARTMENTS_PER_PAGE"],
    )
    content = page_cache.fragment(
        "coverage",
        key,
        lambda: _coverage_content(department, roots, rows_for),
        # The department exists and the pages do (or the answer is a 404): what is kept is
        # bounded by the tree. Other arguments are rendered every time.
        keep=set(request.args) <= {"department", "page", "departments_page"},
    )
    return render_template("reports/coverage.html", department=department, content=content)


def _coverage_content(
    department: Department | None, roots: list[Department] | None, rows_for: list[Department]
) -> str:
    # The areas at the top always (their totals), the sub-departments a page at a time: a unit
    # with hundreds of them made tables and charts nobody reads at once.
    paged = services.page_of_departments(
        rows_for,
        number=page_number("departments_page"),
        per_page=current_app.config["DEPARTMENTS_PER_PAGE"],
    )
    if paged is None:
        abort(404)
    rows_for, sub_departments = paged
    rows = services.coverage(
        db.session,
        departments=rows_for,
        scope_roots=roots,
        today=local_today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
        # A chosen department's own row is the total of its scope.
        with_total=department is None,
    )
    by_requirement: dict[Requirement, list[services.CoverageRow]] = {}
    for row in rows:
        by_requirement.setdefault(row.requirement, []).append(row)
    # All requirements in one short overview; the tables and charts a page at a time (a city
    # with fifty requirements made a page of 280 KB that nobody reads at once).
    overview = services.overview(by_requirement)
    per_page = current_app.config["COVERAGE_REQUIREMENTS_PER_PAGE"]
    requirements_page = existing(page_of_list(overview, number=page_number(), per_page=per_page))
    shown = [row.requirement for row in requirements_page.items]
    # The trend of the area shown: the chosen department, a head's (first) area, or the city.
    trend_of = department or (roots[0] if roots else None)
    trends = services.trend(db.session, department=trend_of, requirement_ids=[r.id for r in shown])
    return render_template(
        "reports/_coverage_content.html",
        department=department,
        overview=overview,
        requirements_page=requirements_page,
        sub_departments=sub_departments,
        page_of={row.requirement.id: n // per_page + 1 for n, row in enumerate(overview)},
        by_requirement={requirement: by_requirement[requirement] for requirement in shown},
        trends=trends,
        charts={rid: trend_chart(points) for rid, points in trends.items()},
        bars={r.id: coverage_bars(by_requirement[r]) for r in shown},
        trend_of=trend_of,
        today=local_today(),
        coverage_note=exports.coverage_note(current_app.config["DUE_SOON_DAYS"]),
        rebuild=current_rebuild(db.session),
    )


@bp.route("/people")
@roles_required(Role.HEAD, Role.HR)
def people():
    department, roots, _rows_for = _scope()
    statuses = [s for s in request.args.getlist("status") if s in set(Status)] or [
        Status.OVERDUE.value,
        Status.DUE_SOON.value,
    ]
    requirement_id = request.args.get("requirement", type=db_int)
    text = request.args.get("q", "")[:100]
    listed = existing(
        requirement_statuses.people_page(
            db.session,
            roots=roots,
            today=local_today(),
            due_soon_days=current_app.config["DUE_SOON_DAYS"],
            statuses=statuses,
            requirement_id=requirement_id,
            text=text,
            number=page_number(),
            per_page=current_app.config["PEOPLE_PER_PAGE"],
        )
    )
    _record_access("drilldown", [p.employee.id for p in listed.items], department)
    requirement_services.load_courses(db.session, {row.requirement.id for row in listed.items})
    return render_template(
        "reports/people.html",
        department=department,
        people=listed,
        q=text,
        statuses=statuses,
        requirement=db.session.get(Requirement, requirement_id) if requirement_id else None,
        rebuild=current_rebuild(db.session),
    )


@bp.route("/people.csv")
@roles_required(Role.HEAD, Role.HR)
def people_csv():
    """Everyone in scope with their status, as Excel opens it (``;``, UTF-8 with BOM), streamed;
    a large scope is built in the background instead."""
    department, roots, _rows_for = _scope()
    later = _in_background("csv", department, roots)
    if later is not None:
        return later
    today = local_today()
    rows = requirement_statuses.people(
        db.session,
        roots=roots,
        today=today,
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
        statuses=[s.value for s in Status],
    )
    scope_name = exports.scope_label(department, roots)
    filename = background.export_filename(department, "csv", today)
    _record_export(filename, roots, "csv")
    return Response(
        stream_with_context(exports.people_csv(rows, scope_name=scope_name, today=today)),
        mimetype="text/csv",
        headers=_attachment(filename),
    )


@bp.route("/people.xlsx")
@roles_required(Role.HEAD, Role.HR)
def people_xlsx():
    """The coverage table and everyone in scope as an Excel workbook."""
    return _file("xlsx", background_above=current_app.config["EXPORT_IN_BACKGROUND_ABOVE"])


@bp.route("/coverage.pdf")
@roles_required(Role.HEAD, Role.HR)
def coverage_pdf():
    """The coverage report with the people overdue or due soon, to forward."""
    return _file("pdf", background_above=None)


def _file(file_format: str, *, background_above: int | None) -> ResponseReturnValue:
    department, roots, rows_for = _scope()
    if background_above is not None:
        later = _in_background(file_format, department, roots)
        if later is not None:
            return later
    filename, body = background.export_content(
        db.session,
        department=department,
        roots=roots,
        rows_for=rows_for,
        file_format=file_format,
        today=local_today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
        city_name=current_app.config["CITY_NAME"],
    )
    _record_export(filename, roots, file_format)
    return Response(body, mimetype=MIME_TYPES[file_format], headers=_attachment(filename))


@bp.route("/exports/<token>")
@roles_required(Role.HEAD, Role.HR)
def export_status(token: str):
    return render_template("reports/export.html", report=_own_report(token))


@bp.route("/exports/<token>.json")
@roles_required(Role.HEAD, Role.HR)
def export_progress(token: str):
    report = _own_report(token)
    return {"status": report.status, "progress": report.progress}


@bp.route("/exports/<token>/download")
@roles_required(Role.HEAD, Role.HR)
def export_download(token: str):
    report = _own_report(token)
    if report.status != ReportStatus.DONE.value:
        abort(404)
    department = db.session.get(Department, report.department_id) if report.department_id else None
    roots, _rows_for = services.scope_for(db.session, current_user, department)
    _record_export(report.filename, roots, report.format)
    return Response(
        report.content, mimetype=MIME_TYPES[report.format], headers=_attachment(report.filename)
    )


def _in_background(
    file_format: str, department: Department | None, roots: list[Department] | None
) -> ResponseReturnValue | None:
    """For a scope above the limit: record the export, start the task, show its progress."""
    if background.scope_size(db.session, roots) <= current_app.config["EXPORT_IN_BACKGROUND_ABOVE"]:
        return None
    report = background.request_export(
        db.session, user=current_user, department=department, file_format=file_format
    )
    token = report.token
    commit_and_start(db.session, build_export, report.id, on_refused=background.fail_unstarted)
    return redirect(url_for("reports.export_status", token=token))


def _own_report(token: str) -> ReportFile:
    report = db.session.scalar(select(ReportFile).where(ReportFile.token == token)) or abort(404)
    if report.requested_by_user_id != current_user.id:
        abort(404)
    return report


def _record_access(purpose: str, employee_ids: list[int], department: Department | None) -> None:
    """Who saw whose status (the access log), committed before the page is sent."""
    detail = f"{request.path} {department.code if department else ''}".strip()
    record_access(db.session, purpose=purpose, employee_ids=employee_ids, detail=detail)
    commit_access_log(db.session)


def _record_export(filename: str, roots: list[Department] | None, file_format: str) -> None:
    """The people a download names go to the access log before the file is sent."""
    background.record_export(
        db.session,
        filename=filename,
        roots=roots,
        file_format=file_format,
        today=local_today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
    )
    commit_access_log(db.session)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _scope() -> tuple[Department | None, list[Department] | None, list[Department]]:
    """(chosen department or None, roots to compute over, departments to show as rows).

    Heads see their subtrees only: asking for a department outside them is a 403, not an
    empty report."""
    code = request.args.get("department")
    department = None
    if code:
        department = staff_services.find_department(db.session, code) or abort(404)
        if not staff_services.may_see_department(current_user, department):
            abort(403)
    roots, rows_for = services.scope_for(db.session, current_user, department)
    return department, roots, rows_for


bp.add_app_template_filter(exports.status_label, "status_label")
bp.add_app_template_filter(exports.display_date, "report_date")

#: A requirement status's class and sign beside its word (never colour alone).
_STATUS_LOOK = {
    "compliant": (" status--booked", "✓"),
    "due_soon": (" status--waitlisted", "⏳"),
    "overdue": (" status--overdue", "⚠"),
    "exempt": (" status--cancelled", "–"),
}


@bp.app_template_global()
def requirement_status(status: str) -> Markup:
    """A requirement's status as a sign and a word (a function rather than a macro: pages show
    it once per row, and a macro's call costs more than the text)."""
    modifier, sign = _STATUS_LOOK.get(status, ("", "○"))
    label = escape(exports.status_label(status))
    return Markup(f'<span class="status{modifier}">{sign} {label}</span>')  # noqa: S704 (escaped)

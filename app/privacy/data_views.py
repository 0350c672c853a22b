"""Meine Daten (every employee's own data, and HR's copy for a person on request) and the
reports of the retention runs."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.audit import commit_access_log, record_access, record_change
from app.core.clock import local_today
from app.core.roles import Role, roles_required
from app.extensions import db
from app.privacy import bp, my_data, retention
from app.staff.models import Employee

NO_STORE = "no-store"


@bp.route("/my-data")
@login_required
def my_data_page():
    employee = current_user.employee
    return _data_page(employee, _collect(employee) if employee is not None else None, False)


@bp.route("/my-data.<any(json, pdf):file_format>")
@login_required
def my_data_download(file_format: str):
    employee = current_user.employee
    if employee is None:
        abort(404)
    return _download(_collect(employee), file_format)


@bp.route("/people/<int:employee_id>")
@roles_required(Role.HR)
def person_data_page(employee_id: int):
    employee = db.get_or_404(Employee, employee_id)
    data = _collect(employee)
    record_access(
        db.session, purpose="person_data", employee_ids=[employee.id], detail="Meine Daten"
    )
    commit_access_log(db.session)
    return _data_page(employee, data, True)


def _data_page(employee: Employee | None, data: dict[str, Any] | None, for_hr: bool) -> Response:
    """The page of what is held about ``employee``: their own, or HR's for a request."""
    return _no_store(
        render_template(
            "privacy/my_data.html",
            employee=employee,
            data=data,
            labels=my_data.section_labels(),
            fields=my_data.field_labels(),
            values=my_data.value_labels(),
            coded=my_data.CODED_FIELDS,
            for_hr=for_hr,
        )
    )


@bp.route("/people/<int:employee_id>/data.<any(json, pdf):file_format>")
@roles_required(Role.HR)
def person_data_download(employee_id: int, file_format: str):
    """HR's copy of a person's data on their request: recorded in the audit and access logs."""
    employee = db.get_or_404(Employee, employee_id)
    data = _collect(employee)
    record_change(
        db.session,
        action="data_export",
        entity="employee",
        entity_id=employee.id,
        after={"format": file_format},
    )
    record_access(
        db.session,
        purpose="data_export",
        employee_ids=[employee.id],
        detail=f"meine-daten.{file_format}",
    )
    commit_access_log(db.session)
    return _download(data, file_format)


@bp.route("/retention")
@roles_required(Role.ADMIN, Role.DATA_PROTECTION)
def retention_runs():
    return render_template(
        "privacy/retention_runs.html",
        runs=retention.latest_runs(db.session),
        categories=retention.CATEGORIES,
        category_labels={
            "leavers": _("Leavers anonymised"),
            "outbox_bodies": _("Message texts cleared"),
            "import_files": _("Import files cleared"),
            "report_files": _("Export files deleted"),
            "access_log": _("Access-log entries deleted"),
        },
        applying=current_app.config["RETENTION_APPLY"],
    )


@bp.app_template_filter("readable")
def _readable(value: object) -> str:
    return my_data.readable(value)


def _collect(employee: Employee) -> dict[str, Any]:
    return my_data.collect(
        db.session,
        employee,
        today=local_today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
    )


def _download(data: dict[str, Any], file_format: str) -> Response:
    if file_format == "json":
        body, mimetype = my_data.as_json(data), "application/json"
    else:
        body = my_data.as_pdf(
            data, city_name=current_app.config["CITY_NAME"], lang=str(get_locale())
        )
        mimetype = "application/pdf"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="meine-daten.{file_format}"'
    return _no_store(response)


def _no_store(response: Any) -> Response:
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = NO_STORE
    return response

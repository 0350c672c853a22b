"""Pages of the records: the audit log (admins and the data-protection officer), its summary
for the staff council (counts, no names), and the access log (the data-protection officer)."""

from __future__ import annotations

from flask import Response, flash, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.audit import record_change
from app.core.clock import local_today
from app.core.roles import Role, roles_required
from app.extensions import db
from app.privacy import bp
from app.privacy.forms import AccessFilterForm, AuditFilterForm
from app.privacy.services import access_log, audit_log

#: What the audit log's entity codes mean, for the filter and the table.
ENTITY_LABELS = {
    "course": _l("Course"),
    "session": _l("Date"),
    "enrolment": _l("Enrolment"),
    "completion": _l("Completion"),
    "requirement": _l("Mandatory training"),
    "requirement_audience": _l("Audience of a mandatory training"),
    "exemption": _l("Exemption"),
    "import": _l("Import"),
    "user": _l("Login"),
    "role": _l("Role"),
    "head_assignment": _l("Head of a department"),
    "department": _l("Department"),
    "employee": _l("Employee"),
    "audit_log": _l("Audit log"),
}
#: Cursor values beyond this are no id the log will reach (and overflow the databases).
MAX_ID = 2**62


@bp.app_template_filter("audit_entity")
def _audit_entity(value: str) -> str:
    return str(ENTITY_LABELS.get(value, value))


@bp.route("/audit")
@roles_required(Role.ADMIN, Role.DATA_PROTECTION)
def audit() -> ResponseReturnValue:
    form, audit_filter, before = _audit_filter()
    page = (
        audit_log.audit_page(db.session, audit_filter, before=before)
        if audit_filter is not None
        else audit_log.Page([], None)
    )
    return render_template("privacy/audit.html", form=form, page=page, args=_filter_args(form)), (
        200 if audit_filter is not None else 400
    )


@bp.route("/audit.csv")
@roles_required(Role.ADMIN, Role.DATA_PROTECTION)
def audit_csv() -> ResponseReturnValue:
    """The filtered entries, newest first, streamed as they are read."""
    form, audit_filter, _before = _audit_filter()
    if audit_filter is None:
        return render_template(
            "privacy/audit.html", form=form, page=audit_log.Page([], None), args={}
        ), 400
    # Taking the log away is itself recorded (who exported which part of it).
    record_change(db.session, action="export", entity="audit_log", after=_filter_args(form))
    db.session.commit()
    filename = f"audit-log-{local_today():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(audit_log.audit_csv(db.session, audit_filter)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/audit/summary")
@roles_required(Role.STAFF_COUNCIL, Role.DATA_PROTECTION, Role.ADMIN)
def audit_summary() -> ResponseReturnValue:
    """Changes per month, kind and action: what the staff council may see, without names."""
    rows = audit_log.summary(db.session, today=local_today())
    months: dict[str, list[audit_log.SummaryRow]] = {}
    for row in rows:
        months.setdefault(row.month, []).append(row)
    return render_template("privacy/summary.html", months=months)


@bp.route("/access")
@roles_required(Role.DATA_PROTECTION)
def access() -> ResponseReturnValue:
    form = AccessFilterForm(request.args)
    before = _cursor()
    if not form.validate() or before is False:
        return render_template(
            "privacy/access.html", form=form, page=access_log.AccessPage([], None), args={}
        ), 400
    access_filter = access_log.AccessFilter(
        viewer=(form.viewer.data or "").strip(),
        personnel_number=(form.personnel_number.data or "").strip(),
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    page = access_log.access_page(db.session, access_filter, before=before or None)
    return render_template("privacy/access.html", form=form, page=page, args=_filter_args(form))


def _audit_filter() -> tuple[AuditFilterForm, audit_log.AuditFilter | None, int | None]:
    """The form, and the filter it gives (None when the input is not valid)."""
    form = AuditFilterForm(request.args)
    entities, actions = audit_log.known_values(db.session)
    form.entity.choices = [("", _l("any"))] + [(e, _audit_entity(e)) for e in entities]
    form.action.choices = [("", _l("any"))] + [(a, a) for a in actions]
    before = _cursor()
    if not form.validate() or before is False:
        return form, None, None
    audit_filter = audit_log.AuditFilter(
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        actor=(form.actor.data or "").strip(),
        entity=form.entity.data or "",
        action=form.action.data or "",
        entity_id=(form.entity_id.data or "").strip(),
    )
    return form, audit_filter, before or None


def _cursor() -> int | None | bool:
    """The ``before`` id of the page asked for; None for the newest, False when malformed."""
    value = request.args.get("before", "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 19 or not 0 < int(value) < MAX_ID:
        flash(_("This page of the log does not exist."), "error")
        return False
    return int(value)


def _filter_args(form: AuditFilterForm | AccessFilterForm) -> dict[str, str]:
    """The filter as query arguments, for the next page's link and the CSV."""
    return {
        field.name: str(field.data)
        for field in form
        if field.data not in (None, "") and field.name != "csrf_token"
    }

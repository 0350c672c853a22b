"""Paper for staff without e-mail: invitation letters per date or department, and the messages
that could not be mailed, listed for the head (own staff) or HR (everyone) to hand out."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.audit import record_access
from app.core.audit_trail import commit_access_log
from app.core.clock import local_today
from app.core.forms import ActionOnlyForm
from app.core.pdf import static_file
from app.core.roles import Role, roles_required
from app.core.types import utcnow
from app.courses.models import CourseSession
from app.extensions import db
from app.notifications import bp, letters, unmailed
from app.notifications.delivery import mail_settings
from app.notifications.messages import MESSAGE_TYPES
from app.staff import services as staff_services
from app.staff.models import Department


@bp.route("/letters")
@roles_required(Role.HEAD, Role.HR)
def letters_to_hand_out():
    roots = _scope()
    items = unmailed.to_hand_out(db.session, roots=roots)
    _record_access("people_list", [item.employee.id for item in items], request.path)
    return render_template(
        "notifications/letters.html",
        items=items,
        departments=staff_services.list_subtree(
            db.session, staff_services.list_roots(db.session) if roots is None else roots
        ),
        form=ActionOnlyForm(),
        subjects={kind.value: t.subject for kind, t in MESSAGE_TYPES.items()},
    )


@bp.route("/letters.pdf")
@roles_required(Role.HEAD, Role.HR)
def letters_pdf():
    """The listed messages (or the chosen ones) as letters, one page each."""
    items = unmailed.to_hand_out(db.session, roots=_scope(), message_ids=_chosen_ids())
    body = letters.message_letters_pdf(
        unmailed.printed(db.session, items, mail_settings()), _settings(), today=local_today()
    )
    filename = f"briefe-{local_today():%Y-%m-%d}.pdf"
    _record_access("letters", [item.employee.id for item in items], filename)
    return _pdf(body, filename)


@bp.route("/letters/handed-out", methods=["POST"])
@roles_required(Role.HEAD, Role.HR)
def mark_handed_out():
    ActionOnlyForm().validate_on_submit() or abort(400)
    ids = _chosen_ids()
    if not ids:
        flash(_("Please select at least one letter."), "error")
        return redirect(url_for("notifications.letters_to_hand_out"))
    count = unmailed.mark_handed_out(
        db.session, message_ids=ids, roots=_scope(), actor=current_user
    )
    db.session.commit()
    flash(_("%(count)d letters marked as handed out.", count=count), "success")
    return redirect(url_for("notifications.letters_to_hand_out"))


@bp.route("/invitations.pdf")
@roles_required(Role.HEAD, Role.HR)
def department_invitations_pdf():
    """Invitations for every upcoming booking of a department's people without e-mail."""
    code = request.args.get("department", "")
    department = staff_services.find_department(db.session, code) or abort(404)
    if not _may_print_for(department):
        abort(403)
    invitations = letters.invitations_for_department(db.session, department, now=utcnow())
    body = letters.invitation_letters_pdf(invitations, _settings(), today=local_today())
    filename = f"einladungen-{department.code}-{local_today():%Y-%m-%d}.pdf"
    _record_access("letters", [e.employee_id for e in invitations], filename)
    return _pdf(body, filename)


@bp.route("/invitations/sessions/<int:session_id>.pdf")
@roles_required(Role.HEAD, Role.HR)
def session_invitations_pdf(session_id: int):
    """Invitations for the people of a date without e-mail (a head: their own staff)."""
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    invitations = letters.invitations_for_session(db.session, course_session, roots=_scope())
    body = letters.invitation_letters_pdf(invitations, _settings(), today=local_today())
    filename = f"einladungen-termin-{course_session.id}.pdf"
    _record_access("letters", [e.employee_id for e in invitations], filename)
    return _pdf(body, filename)


def _record_access(purpose: str, employee_ids: list[int], detail: str) -> None:
    """Letters and their list name people: who saw them goes to the access log."""
    record_access(db.session, purpose=purpose, employee_ids=employee_ids, detail=detail)
    commit_access_log(db.session)


def _scope() -> list[Department] | None:
    """HR prints for everyone (None); a head for the departments they head and below."""
    if current_user.has_role(Role.HR):
        return None
    return list(current_user.headed_departments)


def _may_print_for(department: Department) -> bool:
    roots = _scope()
    return roots is None or staff_services.is_within(department, roots)


def _chosen_ids() -> list[int] | None:
    ids = [int(v) for v in request.values.getlist("message_id") if v.isdigit() and len(v) < 12]
    return ids or None


def _settings() -> letters.LetterSettings:
    config = current_app.config
    return letters.LetterSettings(
        city_name=config["CITY_NAME"],
        logo=static_file(config["CITY_LOGO"]),
        contact=config["LETTER_CONTACT"],
        what_to_bring=config["LETTER_WHAT_TO_BRING"],
    )


def _pdf(body: bytes, filename: str):
    return (
        body,
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )

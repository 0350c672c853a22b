"""Routes everyone uses: dates, a session's page, enrolling, cancelling, own history, .ics."""

from __future__ import annotations

from typing import cast

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.audit import record_access
from app.core.audit_trail import commit_access_log
from app.core.roles import Role
from app.core.services import is_safe_redirect_path
from app.core.types import BERLIN, utcnow
from app.courses import bp
from app.courses.forms import (
    FORMAT_LABELS,
    LANGUAGE_LABELS,
    ActionForm,
    CancelSessionForm,
    MoveForm,
    SessionFilterForm,
)
from app.courses.messages import explain
from app.courses.models import Course, CourseSession, Enrolment, EnrolmentStatus
from app.courses.services import calendar, enrolment, queries
from app.courses.services.errors import AlreadyEnrolled, CourseError, NotCancellable
from app.extensions import db


@bp.app_template_filter("format_label")
def _format_label(value: str) -> str:
    return str(FORMAT_LABELS.get(value, value))


@bp.app_template_filter("language_label")
def _language_label(value: str) -> str:
    return str(LANGUAGE_LABELS.get(value, value))


@bp.route("/")
@login_required
def catalogue():
    form = SessionFilterForm(request.args)
    courses = queries.list_courses(db.session)
    form.course.choices = [("", _("any"))] + [(str(c.id), c.title) for c in courses]
    session_filter = queries.SessionFilter(
        course_id=request.args.get("course", type=int),
        month=_valid_month(request.args.get("month")),
        language=form.language.data or None,
        format=form.format.data or None,
    )
    return render_template(
        "courses/catalogue.html",
        form=form,
        courses=courses,
        sessions=queries.find_sessions(db.session, session_filter),
    )


@bp.route("/course/<int:course_id>")
@login_required
def course(course_id: int):
    found = db.session.get(Course, course_id) or abort(404)
    sessions = queries.find_sessions(db.session, queries.SessionFilter(course_id=found.id))
    return render_template("courses/course.html", course=found, sessions=sessions)


@bp.route("/sessions/<int:session_id>")
@login_required
def session(session_id: int):
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    own = queries.enrolment_for(db.session, course_session, current_user.employee)
    context: dict[str, object] = {
        "course_session": course_session,
        "own": own,
        "position": enrolment.waitlist_position(db.session, own) if own else None,
        "action_form": ActionForm(),
        "begun": course_session.has_begun(utcnow()),
    }
    if current_user.has_role(Role.HR):
        enrolments = queries.enrolments_of(db.session, course_session)
        context.update(
            enrolments=enrolments,
            positions=enrolment.waitlist_positions(db.session, course_session.id),
            move_form=_move_form(course_session),
            cancel_session_form=CancelSessionForm(),
        )
    elif current_user.has_role(Role.HEAD):  # the head's own staff on this date, to book for
        context.update(
            own_staff=[
                e
                for e in queries.enrolments_of(db.session, course_session)
                if enrolment.may_act_for(current_user, e.employee)
            ],
            positions=enrolment.waitlist_positions(db.session, course_session.id),
        )
    listed = cast(list[Enrolment], context.get("enrolments") or context.get("own_staff") or [])
    if listed:  # a date's participant list names people: who saw it goes to the access log
        record_access(
            db.session,
            purpose="participants",
            employee_ids=[e.employee_id for e in listed],
            detail=request.path,
        )
        commit_access_log(db.session)
    return render_template("courses/session.html", **context)


@bp.route("/sessions/<int:session_id>/enrol", methods=["POST"])
@login_required
def enrol(session_id: int):
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    if current_user.employee is None:
        abort(403)
    ActionForm().validate_on_submit() or abort(400)
    try:
        result = enrolment.enrol(
            db.session,
            employee=current_user.employee,
            course_session=course_session,
            actor=current_user,
        )
    except AlreadyEnrolled:  # a second click, another tab: answer as the first click did
        db.session.rollback()
        told = _enrolled_message(
            queries.enrolment_for(db.session, course_session, current_user.employee)
        )
    except CourseError as error:
        db.session.rollback()
        told = (explain(error), "error")
    else:
        told = _enrolled_message(result)  # still under the date's lock: the place is exact
        db.session.commit()
    if told is not None:
        flash(*told)
    return redirect(url_for("courses.session", session_id=session_id))


def _enrolled_message(result: Enrolment | None) -> tuple[str, str] | None:
    """What the person is told about their enrolment: booked, or their place in line."""
    if result is None:
        return None
    if result.status == EnrolmentStatus.BOOKED:
        return _("You are booked. The calendar file is below."), "success"
    position = enrolment.waitlist_position(db.session, result)
    if result.status != EnrolmentStatus.WAITLISTED or position is None:
        return None  # moved up since the status was read: the page shows the seat
    return (
        _("The date is full. You are number %(position)d on the waiting list.", position=position),
        "info",
    )


@bp.route("/enrolments/<int:enrolment_id>/cancel", methods=["POST"])
@login_required
def cancel(enrolment_id: int):
    found = db.session.get(Enrolment, enrolment_id) or abort(404)
    if not enrolment.may_act_for(current_user, found.employee):
        abort(403)
    form = ActionForm()
    form.validate_on_submit() or abort(400)
    session_id = found.session_id
    try:
        promoted = enrolment.cancel_enrolment(
            db.session,
            enrolment=found,
            actor=current_user,
            override_deadline=form.override_deadline.data,
        )
    except NotCancellable as error:  # a second click: cancelled already, say so as the first did
        db.session.rollback()  # ``found`` is read again: it shows the other click's result
        if found.status == EnrolmentStatus.CANCELLED:
            flash(_("The enrolment is cancelled."), "success")
        else:
            flash(explain(error), "error")
    except CourseError as error:
        db.session.rollback()
        flash(explain(error), "error")
    else:
        db.session.commit()
        flash(_("The enrolment is cancelled."), "success")
        if promoted and current_user.has_role(Role.HR):
            names = ", ".join(p.employee.full_name for p in promoted)
            flash(_("Moved up from the waiting list: %(names)s", names=names), "info")
    target = request.form.get("next")
    if not is_safe_redirect_path(target):
        target = url_for("courses.session", session_id=session_id)
    return redirect(target)


@bp.route("/sessions/<int:session_id>/calendar.ics")
@login_required
def session_calendar(session_id: int):
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    own = queries.enrolment_for(db.session, course_session, current_user.employee)
    if not current_user.has_role(Role.HR) and (own is None or own.status != "booked"):
        abort(403)
    body = calendar.session_calendar(
        course_session, uid_domain=current_app.config["CALENDAR_UID_DOMAIN"]
    )
    return (
        body,
        200,
        {
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": f'attachment; filename="termin-{course_session.id}.ics"',
        },
    )


@bp.route("/mine")
@login_required
def mine():
    if current_user.employee is None:
        abort(404)
    history = queries.history_of(db.session, current_user.employee)
    positions = {e.id: enrolment.waitlist_position(db.session, e) for e in history}
    return render_template(
        "courses/mine.html",
        history=history,
        positions=positions,
        overview=queries.employee_overview(db.session, current_user.employee),
        action_form=ActionForm(),
    )


def _valid_month(value: str | None) -> str | None:
    if not value or len(value) != 7 or value[4] != "-":
        return None
    year, month = value[:4], value[5:]
    if year.isdigit() and month.isdigit() and 1 <= int(month) <= 12:
        return value
    return None


def _move_form(course_session: CourseSession) -> MoveForm:
    form = MoveForm()
    others = queries.find_sessions(
        db.session, queries.SessionFilter(course_id=course_session.course_id)
    )
    form.target.choices = [
        (s.id, f"{s.starts_at.astimezone(BERLIN):%d.%m.%Y %H:%M} ({s.free_seats})")
        for s in others
        if s.id != course_session.id
    ]
    return form

"""Routes everyone uses: dates, a session's page, enrolling, cancelling, own history, .ics."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from app.core import page_cache
from app.core.audit import commit_access_log, record_access
from app.core.formatting import gettext as _
from app.core.formatting import ngettext
from app.core.forms import ActionOnlyForm
from app.core.input import db_int, valid_month
from app.core.paging import existing, page_number
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
from app.courses.services import calendar, enrolment, feeds, queries
from app.courses.services.errors import AlreadyEnrolled, CourseError, NotCancellable
from app.extensions import db, limiter


@bp.app_template_filter("format_label")
def _format_label(value: str) -> str:
    return str(FORMAT_LABELS.get(value, value))


@bp.app_template_filter("language_label")
def _language_label(value: str) -> str:
    return str(LANGUAGE_LABELS.get(value, value))


@bp.app_template_global()
def free_seats(offer: queries.DateOffer | CourseSession, of_capacity: bool = False) -> str:
    """A date's free seats (``of_capacity``: against the seats there are), or that it is full
    and whoever enrols goes on the waiting list, in words, never colour alone. A function
    rather than a macro: pages show it once per date."""
    if offer.free_seats <= 0:
        full = escape(_("fully booked – waiting list"))
        return Markup(f'<span class="status status--full">{full}</span>')  # noqa: S704 (escaped)
    if of_capacity:
        return _("%(free)d of %(capacity)d", free=offer.free_seats, capacity=offer.capacity)
    return ngettext("%(num)d seat free", "%(num)d seats free", offer.free_seats)


#: Pages of the catalogue's dates beyond this are not offered (nobody pages that far).
MAX_CATALOGUE_PAGE = 1000
#: The catalogue pages kept in the page cache (see ``catalogue``).
KEPT_CATALOGUE_PAGES = 10
KEPT_CATALOGUE_FILTERS = {"course", "language", "format"}


@bp.route("/")
@login_required
def catalogue():
    page = request.args.get("page", 1, type=db_int)
    if not 1 <= page <= MAX_CATALOGUE_PAGE:
        abort(404)
    filters = {key: value for key, value in request.args.items() if key != "page"}
    # The same for everyone asking with these filters in this language, until a course or a
    # date changes, or a date begins (the minute is part of the key). Kept: the first pages,
    # by course, language or format (what most people ask for); a month, or anything else, is
    # rendered every time.
    keep = page <= KEPT_CATALOGUE_PAGES and set(filters) <= KEPT_CATALOGUE_FILTERS
    key = (
        str(get_locale()),
        str(get_timezone()),
        utcnow().replace(second=0, microsecond=0),
        page,
        current_app.config["CATALOGUE_DATES_PER_PAGE"],
        request.args.get("course", type=db_int),
        request.args.get("language"),
        request.args.get("format"),
    )
    content = page_cache.fragment(
        "catalogue", key, lambda: _catalogue_content(page, filters), keep=keep
    )
    return render_template("courses/catalogue.html", content=content)


def _catalogue_content(page: int, filters: dict[str, str]) -> str:
    form = SessionFilterForm(request.args)
    courses = queries.list_courses(db.session)
    form.course.choices = [("", _("any"))] + [(str(c.id), c.title) for c in courses]
    session_filter = queries.SessionFilter(
        course_id=request.args.get("course", type=db_int),
        month=valid_month(request.args.get("month")),
        language=form.language.data or None,
        format=form.format.data or None,
    )
    per_page = current_app.config["CATALOGUE_DATES_PER_PAGE"]
    # One more than a page: whether there is a next one, without counting them all.
    sessions = queries.find_sessions(
        db.session, session_filter, limit=per_page + 1, offset=(page - 1) * per_page
    )
    if page > 1 and not sessions:
        abort(404)
    html = render_template(
        "courses/_catalogue_content.html",
        form=form,
        courses=courses,
        sessions=sessions[:per_page],
        page=page,
        has_next=len(sessions) > per_page,
        filters=filters,
        month_text=request.args.get("month", ""),
    )
    # Only filters naming what exists are kept (a made-up course or language would fill the
    # cache with copies of an empty list).
    known = (
        session_filter.course_id in (None, *(c.id for c in courses))
        and (form.language.data or "") in ("", *LANGUAGE_LABELS)
        and (form.format.data or "") in ("", *FORMAT_LABELS)
    )
    return html if known else page_cache.NotKept(html)


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
    # HR sees everyone on the date, a head their own staff: a page at a time, with a search.
    if current_user.has_role(Role.HR, Role.HEAD):
        roots = None if current_user.has_role(Role.HR) else current_user.headed_departments
        text = request.args.get("q", "")[:100]
        listed = existing(
            queries.participants(
                db.session,
                course_session,
                text=text,
                roots=roots,
                number=page_number(),
                per_page=current_app.config["PEOPLE_PER_PAGE"],
            )
        )
        context.update(
            participants=listed,
            q=text,
            positions=enrolment.waitlist_positions(db.session, course_session.id),
        )
        if roots is None:
            context.update(
                move_form=_move_form(course_session), cancel_session_form=CancelSessionForm()
            )
        if listed.items:  # a date's participant list names people: the access log keeps who
            record_access(  # saw whom (the people on the page shown)
                db.session,
                purpose="participants",
                employee_ids=[e.employee_id for e in listed.items],
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
    feed = feeds.feed_of(db.session, current_user.employee)
    return render_template(
        "courses/mine.html",
        history=history,
        positions=positions,
        completions=queries.completions_of(db.session, current_user.employee),
        action_form=ActionForm(),
        feed=feed,
        feed_url=_feed_url(feed) if feed is not None else None,
    )


@bp.route("/mine/calendar", methods=["POST"])
@login_required
def start_calendar_feed():
    """Give the person a subscription address, or a new one (the old one stops working)."""
    if current_user.employee is None:
        abort(404)
    if not ActionOnlyForm().validate_on_submit():
        abort(400)
    renewed = feeds.feed_of(db.session, current_user.employee) is not None
    feeds.start_feed(db.session, current_user.employee)
    db.session.commit()
    flash(
        _("Your calendar has a new address; the old one no longer works.")
        if renewed
        else _("Your calendar address is ready: add it to your calendar as a subscription."),
        "success",
    )
    return redirect(url_for("courses.mine", _anchor="calendar-feed"))


@bp.route("/mine/calendar/stop", methods=["POST"])
@login_required
def stop_calendar_feed():
    if current_user.employee is None:
        abort(404)
    if not ActionOnlyForm().validate_on_submit():
        abort(400)
    if feeds.stop_feed(db.session, current_user.employee):
        db.session.commit()
        flash(_("The calendar subscription is ended; its address no longer works."), "success")
    return redirect(url_for("courses.mine", _anchor="calendar-feed"))


@bp.route("/calendar/<int:feed_id>/<token>.ics")
@limiter.limit(lambda: current_app.config["CALENDAR_FEED_RATE_LIMIT"])
def calendar_feed(feed_id: int, token: str):
    """The subscription itself: no login (calendar apps cannot log in), the address is the key."""
    secret = current_app.config["SECRET_KEY"]
    feed = feeds.find_feed(db.session, feed_id, token, secret=secret) or abort(404)
    now = utcnow()
    body = calendar.feed_calendar(
        feeds.feed_sessions(db.session, feed, now=now),
        uid_domain=current_app.config["CALENDAR_UID_DOMAIN"],
        name=_("Trainings: %(city)s", city=current_app.config["CITY_NAME"]),
    )
    feeds.fetched(feed, now=now)
    db.session.commit()
    return (
        body,
        200,
        {"Content-Type": "text/calendar; charset=utf-8", "Cache-Control": "no-store"},
    )


def _feed_url(feed) -> str:
    token = feeds.feed_token(feed, secret=current_app.config["SECRET_KEY"])
    return url_for("courses.calendar_feed", feed_id=feed.id, token=token, _external=True)


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

"""HR's routes: keep the catalogue, schedule sessions, book people, mark attendance."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.audit import commit_access_log, record_access
from app.core.forms import attach_errors
from app.core.input import db_int
from app.core.paging import existing, page_number, url_with
from app.core.pdf import static_file
from app.core.roles import Role, roles_required
from app.core.services import is_safe_redirect_path
from app.core.types import BERLIN
from app.courses import bp
from app.courses.forms import (
    ActionForm,
    BookOneForm,
    CancelSessionForm,
    CandidateFilterForm,
    CourseForm,
    MoveForm,
    SessionForm,
)
from app.courses.messages import explain
from app.courses.models import (
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
)
from app.courses.services import attendance, catalogue, enrolment, queries, sign_in_sheet
from app.courses.services.errors import AlreadyEnrolled, CourseError, InvalidInput
from app.extensions import db
from app.staff import services as staff_services
from app.staff.models import Employee

COURSE_FIELDS = tuple(catalogue.CourseData.__dataclass_fields__)
SESSION_FIELDS = tuple(catalogue.SessionData.__dataclass_fields__)
LOCAL_TIME_FIELDS = ("starts_at", "ends_at", "enrolment_deadline", "cancellation_deadline")


@bp.route("/course/new", methods=["GET", "POST"])
@roles_required(Role.HR)
def create_course():
    return _course_form(None)


@bp.route("/course/<int:course_id>/edit", methods=["GET", "POST"])
@roles_required(Role.HR)
def edit_course(course_id: int):
    return _course_form(db.session.get(Course, course_id) or abort(404))


def _course_form(course: Course | None):
    form = CourseForm(obj=course)
    if form.validate_on_submit():
        try:
            saved = catalogue.save_course(
                db.session, data=_course_data(form), actor=current_user, course=course
            )
        except InvalidInput as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash(_("Course saved."), "success")
            return redirect(url_for("courses.course", course_id=saved.id))
    return render_template("courses/course_form.html", form=form, course=course)


@bp.route("/course/<int:course_id>/archive", methods=["POST"])
@roles_required(Role.HR)
def archive_course(course_id: int):
    found = db.session.get(Course, course_id) or abort(404)
    ActionForm().validate_on_submit() or abort(400)
    archived = request.form.get("archived") == "1"
    catalogue.set_archived(db.session, found, archived=archived, actor=current_user)
    db.session.commit()
    flash(_("Course archived.") if archived else _("Course active again."), "success")
    return redirect(url_for("courses.course", course_id=found.id))


@bp.route("/course/<int:course_id>/sessions/new", methods=["GET", "POST"])
@roles_required(Role.HR)
def create_session(course_id: int):
    found = db.session.get(Course, course_id) or abort(404)
    form = SessionForm()
    if request.method == "GET":
        form.capacity.data = found.default_capacity
        form.trainer.data = found.trainer
    if form.validate_on_submit():
        try:
            created = catalogue.schedule_session(
                db.session, course=found, data=_session_data(form), actor=current_user
            )
        except InvalidInput as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash(_("Date saved."), "success")
            return redirect(url_for("courses.session", session_id=created.id))
    return render_template(
        "courses/session_form.html", form=form, course=found, course_session=None
    )


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@roles_required(Role.HR)
def edit_session(session_id: int):
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    form = SessionForm(obj=None if request.method == "POST" else _local_times(course_session))
    if form.validate_on_submit():
        try:
            catalogue.update_session(
                db.session, course_session, data=_session_data(form), actor=current_user
            )
        except CourseError as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash(_("Date saved."), "success")
            return redirect(url_for("courses.session", session_id=session_id))
    return render_template(
        "courses/session_form.html",
        form=form,
        course=course_session.course,
        course_session=course_session,
    )


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@roles_required(Role.HR)
def cancel_session(session_id: int):
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    form = CancelSessionForm()
    form.validate_on_submit() or abort(400)
    try:
        released = catalogue.cancel_session(
            db.session, course_session, actor=current_user, reason=form.reason.data or ""
        )
    except CourseError as error:
        db.session.rollback()
        flash(explain(error), "error")
    else:
        db.session.commit()
        flash(
            _(
                "The date is cancelled; %(count)d people were released and will be told.",
                count=len(released),
            ),
            "success",
        )
    return redirect(url_for("courses.session", session_id=session_id))


@bp.route("/sessions/<int:session_id>/book", methods=["GET", "POST"])
@roles_required(Role.HR, Role.HEAD)
def book(session_id: int):
    """HR books anyone; a head books the staff of the departments they head (many of whom
    have no PC to book themselves)."""
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    filter_form = CandidateFilterForm(request.args)
    scope = staff_services.department_scope(current_user)
    roots = staff_services.list_roots(db.session) if scope is None else scope
    departments = staff_services.list_subtree(db.session, roots)
    filter_form.department.choices = [(d.code, "\u2003" * d.depth + d.name) for d in departments]
    one_form = BookOneForm(prefix="one")
    action_form = ActionForm()
    if request.method == "POST":
        action_form.validate_on_submit() or abort(400)
        ids = [int(v) for v in request.form.getlist("employee_id") if v.isdigit() and len(v) < 12]
        if not ids:
            flash(_("Please select at least one person."), "error")
        else:
            people = db.session.scalars(db.select(Employee).where(Employee.id.in_(ids))).all()
            if not all(enrolment.may_act_for(current_user, p) for p in people):
                abort(403)
            _book_many(course_session, people, action_form.override_deadline.data)
            # A list longer than its page: back to it, where the next people now come first.
            more = request.form.get("more")
            if more and is_safe_redirect_path(more):
                return redirect(more)
            return redirect(url_for("courses.session", session_id=session_id))
    candidates = None
    selected = request.args.get("department")
    text = request.args.get("q", "")[:100]
    if selected:
        department = staff_services.find_department(db.session, selected)
        if department is None:
            abort(404)
        if not staff_services.may_see_department(current_user, department):
            abort(403)
        candidates = existing(
            queries.booking_candidates(
                db.session,
                course_session=course_session,
                roots=[department],
                untrained_only=filter_form.untrained_only.data,
                text=text,
                number=page_number(),
                per_page=current_app.config["PEOPLE_PER_PAGE"],
            )
        )
        record_access(
            db.session,
            purpose="people_list",
            employee_ids=[e.id for e in candidates.items],
            detail=request.full_path[:200],
        )
        commit_access_log(db.session)
    return render_template(
        "courses/book.html",
        course_session=course_session,
        filter_form=filter_form,
        one_form=one_form,
        action_form=action_form,
        candidates=candidates,
        q=text,
    )


@bp.route("/sessions/<int:session_id>/book-one", methods=["POST"])
@roles_required(Role.HR, Role.HEAD)
def book_one(session_id: int):
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    form = BookOneForm(prefix="one")
    if not form.validate_on_submit():
        flash(_("Please enter a personnel number."), "error")
        return redirect(url_for("courses.book", session_id=session_id))
    person = staff_services.find_employee(db.session, form.personnel_number.data.strip())
    if person is None:
        flash(_("No employee has this personnel number."), "error")
        return redirect(url_for("courses.book", session_id=session_id))
    if not enrolment.may_act_for(current_user, person):
        abort(403)
    try:
        result = enrolment.enrol(
            db.session,
            employee=person,
            course_session=course_session,
            actor=current_user,
            override_deadline=form.override_deadline.data,
        )
    except AlreadyEnrolled:  # a second click: the first one booked the person
        db.session.rollback()
        flash(_("%(name)s is already enrolled.", name=person.full_name), "info")
        return redirect(url_for("courses.session", session_id=session_id))
    except CourseError as error:
        db.session.rollback()
        flash(explain(error), "error")
        return redirect(url_for("courses.book", session_id=session_id))
    db.session.commit()
    if result.status == EnrolmentStatus.BOOKED.value:
        flash(_("%(name)s is booked.", name=person.full_name), "success")
    else:
        flash(_("%(name)s is on the waiting list.", name=person.full_name), "info")
    return redirect(url_for("courses.session", session_id=session_id))


@bp.route("/book-for/<personnel_number>")
@roles_required(Role.HR, Role.HEAD)
def book_person(personnel_number: str):
    """The next dates for one person (from a head's list of who is due): a button per date
    books them. ``course`` narrows the dates to the courses that fulfil their requirement."""
    person = staff_services.find_employee(db.session, personnel_number[:32]) or abort(404)
    if not enrolment.may_act_for(current_user, person):
        abort(403)
    course_ids = tuple(request.args.getlist("course", type=db_int))
    # A head cannot override a booking deadline (HR can): they are offered open dates only.
    sessions = queries.find_sessions(
        db.session,
        queries.SessionFilter(
            course_ids=course_ids or None, open_for_enrolment=not current_user.has_role(Role.HR)
        ),
    )
    record_access(db.session, purpose="person", employee_ids=[person.id], detail=request.path)
    commit_access_log(db.session)
    return render_template(
        "courses/book_person.html",
        person=person,
        sessions=sessions,
        one_form=BookOneForm(prefix="one"),
    )


@bp.route("/enrolments/<int:enrolment_id>/move", methods=["POST"])
@roles_required(Role.HR)
def move(enrolment_id: int):
    found = db.session.get(Enrolment, enrolment_id) or abort(404)
    form = MoveForm()
    form.validate_on_submit() or abort(400)
    target = db.session.get(CourseSession, form.target.data) or abort(404)
    source_id = found.session_id
    try:
        moved = enrolment.move_enrolment(
            db.session, enrolment=found, target=target, actor=current_user
        )
    except CourseError as error:
        db.session.rollback()
        flash(explain(error), "error")
        return redirect(url_for("courses.session", session_id=source_id))
    db.session.commit()
    flash(_("%(name)s was moved.", name=moved.employee.full_name), "success")
    return redirect(url_for("courses.session", session_id=target.id))


@bp.route("/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@roles_required(Role.HR)
def mark_attendance(session_id: int):
    """The seats a page at a time (with a search for the few who were absent): saving a page
    records its people only, or, with the second button, everyone not yet recorded as attended."""
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            changed = attendance.record_attendance(
                db.session,
                course_session=course_session,
                outcomes=_posted_outcomes(),
                actor=current_user,
                others_attended=request.form.get("others") == "attended",
            )
        except CourseError as error:
            db.session.rollback()
            flash(explain(error), "error")
        else:
            db.session.commit()
            flash(_("Attendance saved (%(count)d changes).", count=changed), "success")
            return redirect(url_with())  # the same page and search: on to the next one
    text = request.args.get("q", "")[:100]
    seated = existing(
        queries.participants(
            db.session,
            course_session,
            text=text,
            seated_only=True,
            number=page_number(),
            per_page=current_app.config["PEOPLE_PER_PAGE"],
        )
    )
    if seated.items:
        record_access(
            db.session,
            purpose="participants",
            employee_ids=[e.employee_id for e in seated.items],
            detail=request.path,
        )
        commit_access_log(db.session)
    return render_template(
        "courses/attendance.html",
        course_session=course_session,
        seated=seated,
        q=text,
        summary=queries.attendance_summary(db.session, course_session),
        form=form,
        outcomes=attendance.OUTCOMES,
    )


def _posted_outcomes() -> dict[int, EnrolmentStatus]:
    """The outcome of each seat on the posted page (``outcome-<enrolment id>``); 400 for
    anything else."""
    outcomes: dict[int, EnrolmentStatus] = {}
    for key, value in request.form.items():
        if not key.startswith("outcome-"):
            continue
        try:
            enrolment_id, outcome = db_int(key.removeprefix("outcome-")), EnrolmentStatus(value)
        except ValueError:
            abort(400)
        if outcome not in attendance.OUTCOMES:
            abort(400)
        outcomes[enrolment_id] = outcome
    return outcomes


@bp.route("/sessions/<int:session_id>/sign-in-sheet.pdf")
@roles_required(Role.HR)
def sign_in_sheet_pdf(session_id: int):
    """The trainer's list to sign: the booked people, and empty rows for walk-ins."""
    course_session = db.session.get(CourseSession, session_id) or abort(404)
    body = sign_in_sheet.sign_in_sheet_pdf(
        course_session,
        sign_in_sheet.participants(db.session, course_session),
        city_name=current_app.config["CITY_NAME"],
        logo=static_file(current_app.config["CITY_LOGO"]),
    )
    filename = f"teilnehmerliste-{course_session.starts_at:%Y-%m-%d}-{course_session.id}.pdf"
    record_access(
        db.session,
        purpose="sign_in_sheet",
        employee_ids=sign_in_sheet.participant_ids(course_session),
        detail=filename,
    )
    commit_access_log(db.session)
    return (
        body,
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


def _book_many(course_session: CourseSession, people, override: bool) -> None:
    try:
        result = enrolment.book_many(
            db.session,
            employees=people,
            course_session=course_session,
            actor=current_user,
            override_deadline=override,
        )
    except CourseError as error:
        db.session.rollback()
        flash(explain(error), "error")
        return
    db.session.commit()
    flash(
        _(
            "%(booked)d booked, %(waiting)d on the waiting list, %(skipped)d skipped "
            "(already enrolled or no longer on staff).",
            booked=len(result.booked),
            waiting=len(result.waitlisted),
            skipped=len(result.skipped),
        ),
        "success",
    )


def _course_data(form: CourseForm) -> catalogue.CourseData:
    values = {name: getattr(form, name).data for name in COURSE_FIELDS}
    values["code"] = values["code"].strip()
    values["title"] = values["title"].strip()
    for text in ("description", "learning_goals", "trainer"):
        values[text] = values[text] or ""
    return catalogue.CourseData(**values)


def _session_data(form: SessionForm) -> catalogue.SessionData:
    values = {name: getattr(form, name).data for name in SESSION_FIELDS}
    for name in LOCAL_TIME_FIELDS:
        values[name] = _aware(values[name])
    for text in ("location", "online_url", "trainer", "notes"):
        values[text] = (values[text] or "").strip()
    values["min_participants"] = values["min_participants"] or 0
    return catalogue.SessionData(**values)


def _aware(local: datetime | None) -> datetime | None:
    """A time typed into the form is Berlin time (summer or winter, as on that day)."""
    return local.replace(tzinfo=BERLIN) if local is not None else None


def _local_times(course_session: CourseSession):
    """The session as the form shows it: times in Berlin, without zone."""
    values = {name: getattr(course_session, name) for name in SESSION_FIELDS}
    for name in LOCAL_TIME_FIELDS:
        if values[name] is not None:
            values[name] = values[name].astimezone(BERLIN).replace(tzinfo=None)
    return type("SessionValues", (), values)()


def _attach(form, error: CourseError) -> None:
    """Show a service's complaint next to the field it is about (or at the top)."""
    attach_errors(form, error.errors if isinstance(error, InvalidInput) else {"": explain(error)})

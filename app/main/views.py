"""Pages every role shares: the start page, the language switch, the system status."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core import services
from app.core.background import commit_and_start
from app.core.clock import local_today
from app.core.forms import ActionOnlyForm
from app.core.roles import Role, roles_required
from app.core.types import utcnow
from app.courses.services import queries as course_services
from app.courses.services import seats
from app.extensions import db
from app.main import bp
from app.main.forms import LANGUAGES, LanguageForm
from app.notifications import unmailed
from app.requirements import fact_checks, facts
from app.requirements.services import my_requirements
from app.requirements.tasks import check_coverage, rebuild_coverage
from app.staff import services as staff_services

#: How far back the status page lists what the nightly seat-count check found.
SEAT_REPAIRS_SHOWN = timedelta(days=30)
#: How long a requested coverage check that has not finished is shown as waiting.
CHECKS_WAITING_SHOWN = timedelta(days=1)


@bp.app_context_processor
def _inject_layout() -> dict:
    if not has_request_context():  # e.g. an e-mail rendered by a worker
        return {"city_name": current_app.config["CITY_NAME"]}
    return {
        "languages": LANGUAGES,
        "city_name": current_app.config["CITY_NAME"],
        "city_logo": current_app.config["CITY_LOGO"],
        "get_locale": get_locale,
        "Role": Role,
    }


@bp.route("/")
@login_required
def home():
    employee = current_user.employee
    config = current_app.config
    overview = (
        course_services.employee_overview(
            db.session, employee, completions_limit=config["START_PAGE_COMPLETIONS"]
        )
        if employee
        else None
    )
    items = (
        my_requirements(
            db.session,
            employee,
            today=local_today(),
            due_soon_days=config["DUE_SOON_DAYS"],
            dates_per_requirement=config["START_PAGE_DATES_PER_REQUIREMENT"],
            dates_for_first=config["START_PAGE_REQUIREMENTS"],
        )
        if employee
        else []
    )
    headed = list(current_user.headed_departments) if current_user.has_role(Role.HEAD) else []
    counts = staff_services.headcounts(db.session, headed)
    city = course_services.city_figures(db.session) if current_user.has_role(Role.HR) else None
    letters = (
        unmailed.count_to_hand_out(
            db.session, roots=None if current_user.has_role(Role.HR) else headed
        )
        if current_user.has_role(Role.HR, Role.HEAD)
        else None
    )
    return render_template(
        "main/home.html",
        employee=employee,
        overview=overview,
        items=items,
        headed=headed,
        counts=counts,
        city=city,
        letters=letters,
        more_dates_link=True,
        requirements_shown=config["START_PAGE_REQUIREMENTS"],
    )


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        session.permanent = True
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    target = form.next.data
    return redirect(target if services.is_safe_redirect_path(target) else url_for("main.home"))


@bp.route("/status")
@roles_required(Role.ADMIN, Role.HR)
def status():
    engine = db.engine
    return render_template(
        "main/status.html",
        database=engine.dialect.name,
        broker="redis" if current_app.config.get("REDIS_URL") else "in-process",
        mail=current_app.config.get("MAIL_SERVER") or current_app.config["MAIL_OUTBOX_DIR"],
        heartbeats=services.list_heartbeats(db.session),
        seat_repairs=seats.recent_repairs(db.session, since=utcnow() - SEAT_REPAIRS_SHOWN),
        coverage_checks=fact_checks.latest_checks(db.session),
        waiting_checks=fact_checks.waiting_checks(
            db.session, since=utcnow() - CHECKS_WAITING_SHOWN
        ),
        rebuild=facts.current_rebuild(db.session),
        last_rebuild=facts.last_finished_rebuild(db.session),
    )


@bp.route("/status/coverage/rebuild", methods=["POST"])
@roles_required(Role.ADMIN, Role.HR)
def rebuild_coverage_now():
    """Queue a rebuild of all coverage facts and start the task."""
    ActionOnlyForm().validate_on_submit() or abort(400)
    rebuild_id = facts.queue_rebuild(db.session, None).id
    if commit_and_start(db.session, rebuild_coverage, rebuild_id, on_refused=_left_waiting):
        flash(_("The rebuild of the coverage data has been started."), "success")
    else:
        flash(_("The rebuild is queued; a background worker will run it."), "error")
    return redirect(url_for("main.status", _anchor="coverage-facts"))


@bp.route("/status/coverage/check", methods=["POST"])
@roles_required(Role.ADMIN, Role.HR)
def check_coverage_now():
    """Queue a full check of the coverage facts and start the task."""
    ActionOnlyForm().validate_on_submit() or abort(400)
    check_id = fact_checks.request_check(db.session, "full").id
    if commit_and_start(db.session, check_coverage, check_id, on_refused=_left_waiting):
        flash(_("The check of the coverage data has been started."), "success")
    else:
        flash(_("The check could not be started. Please try again later."), "error")
    return redirect(url_for("main.status", _anchor="coverage-facts"))


def _left_waiting(_db_session, _row_id: int) -> None:
    """A rebuild stays queued for the periodic sweep; a check simply never starts."""


@bp.route("/health")
def health():
    """For load balancers: answers 200 when the database answers."""
    db.session.execute(db.select(1))
    return {"status": "ok"}


@bp.app_template_global()
def current_path() -> str:
    return request.full_path.rstrip("?")

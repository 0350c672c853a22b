"""HR keeps the requirements; everyone sees their own ("Meine Pflichtschulungen")."""

from __future__ import annotations

from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.core.audit import record_access
from app.core.audit_trail import commit_access_log
from app.core.clock import local_today
from app.core.forms import ActionOnlyForm, attach_errors
from app.core.roles import Role, roles_required
from app.courses.models import Course
from app.extensions import db
from app.requirements import bp, services
from app.requirements.forms import ExemptionForm, RequirementForm
from app.requirements.models import AudienceKind, Exemption, Requirement
from app.requirements.status import Status
from app.staff.services import find_department, find_employee

ALL_STATUSES = tuple(s.value for s in Status)


@bp.route("/mine")
@login_required
def mine():
    if current_user.employee is None:
        abort(404)
    items = services.my_requirements(
        db.session,
        current_user.employee,
        today=local_today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
    )
    return render_template("requirements/mine.html", items=items)


@bp.route("/")
@roles_required(Role.HR)
def index():
    return render_template(
        "requirements/index.html", requirements=services.list_requirements(db.session)
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.HR)
def create():
    return _edit(None)


@bp.route("/<int:requirement_id>", methods=["GET", "POST"])
@roles_required(Role.HR)
def edit(requirement_id: int):
    return _edit(db.session.get(Requirement, requirement_id) or abort(404))


@bp.route("/<int:requirement_id>/exemptions", methods=["GET", "POST"])
@roles_required(Role.HR)
def exemptions(requirement_id: int):
    requirement = db.session.get(Requirement, requirement_id) or abort(404)
    form = ExemptionForm()
    if form.validate_on_submit():
        employee = find_employee(db.session, form.personnel_number.data.strip())
        if employee is None:
            form.personnel_number.errors.append(_("No employee has this personnel number."))
        else:
            try:
                services.add_exemption(
                    db.session,
                    employee=employee,
                    requirement=requirement,
                    reason=form.reason.data,
                    starts_on=form.starts_on.data,
                    ends_on=form.ends_on.data,
                    actor=current_user,
                )
            except services.InvalidRequirement as error:
                db.session.rollback()
                _attach(form, error)
            else:
                db.session.commit()
                flash(_("Exemption saved."), "success")
                return redirect(url_for("requirements.exemptions", requirement_id=requirement_id))
    exempted = services.exemptions_of(db.session, requirement)
    record_access(
        db.session,
        purpose="people_list",
        employee_ids=[exemption.employee_id for exemption in exempted],
        detail=request.path,
    )
    commit_access_log(db.session)
    return render_template(
        "requirements/exemptions.html",
        requirement=requirement,
        exemptions=exempted,
        form=form,
        end_form=ActionOnlyForm(),
        today=local_today(),
    )


@bp.route("/exemptions/<int:exemption_id>/end", methods=["POST"])
@roles_required(Role.HR)
def end_exemption(exemption_id: int):
    exemption = db.session.get(Exemption, exemption_id) or abort(404)
    ActionOnlyForm().validate_on_submit() or abort(400)
    services.end_exemption(db.session, exemption, today=local_today(), actor=current_user)
    db.session.commit()
    flash(_("Exemption ended."), "success")
    return redirect(url_for("requirements.exemptions", requirement_id=exemption.requirement_id))


def _edit(requirement: Requirement | None):
    form = RequirementForm(obj=None if request.method == "POST" else _form_values(requirement))
    courses = db.session.scalars(select(Course).order_by(Course.title)).all()
    form.courses.choices = [(c.id, c.title) for c in courses]
    if form.validate_on_submit():
        data = _requirement_data(form, courses)
        try:
            saved = services.save_requirement(
                db.session, data=data, actor=current_user, requirement=requirement
            )
        except services.InvalidRequirement as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash(_("Requirement saved."), "success")
            return redirect(url_for("requirements.edit", requirement_id=saved.id))
    return render_template("requirements/form.html", form=form, requirement=requirement)


def _requirement_data(form: RequirementForm, courses) -> services.RequirementData:
    errors: dict[str, str] = {}

    def departments(field):
        found = []
        for code in _split(field.data):
            department = find_department(db.session, code)
            if department is None:
                errors[field.name] = _("Unknown department code: %(code)s", code=code)
            else:
                found.append(department)
        return found

    chosen = set(form.courses.data or [])
    return services.RequirementData(
        name=form.name.data,
        description=form.description.data or "",
        courses=[c for c in courses if c.id in chosen],
        everyone=form.everyone.data,
        include_departments=departments(form.include_departments),
        include_positions=_split(form.include_positions.data),
        exclude_departments=departments(form.exclude_departments),
        exclude_positions=_split(form.exclude_positions.data),
        first_due_date=form.first_due_date.data,
        grace_days=form.grace_days.data,
        renewal_months=form.renewal_months.data,
        renewal_window_days=form.renewal_window_days.data,
        cycle_month=form.cycle_month.data,
        cycle_day=form.cycle_day.data,
        active=form.active.data,
        extra_errors=errors,
    )


def _form_values(requirement: Requirement | None) -> SimpleNamespace | None:
    """The form's values for an existing requirement (None: an empty form)."""
    if requirement is None:
        return None
    rules = requirement.audience

    def joined(kind: str, exclude: bool) -> str:
        return ", ".join(
            rule.department.code if rule.department else rule.position or ""
            for rule in rules
            if rule.kind == kind and rule.exclude is exclude
        )

    return SimpleNamespace(
        name=requirement.name,
        description=requirement.description,
        courses=[c.id for c in requirement.courses],
        everyone=any(r.kind == AudienceKind.ALL.value for r in rules),
        include_departments=joined(AudienceKind.DEPARTMENT.value, False),
        exclude_departments=joined(AudienceKind.DEPARTMENT.value, True),
        include_positions=joined(AudienceKind.POSITION.value, False),
        exclude_positions=joined(AudienceKind.POSITION.value, True),
        first_due_date=requirement.first_due_date,
        grace_days=requirement.grace_days,
        renewal_months=requirement.renewal_months,
        renewal_window_days=requirement.renewal_window_days,
        cycle_month=requirement.cycle_month,
        cycle_day=requirement.cycle_day,
        active=requirement.active,
    )


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _attach(form, error: services.InvalidRequirement) -> None:
    attach_errors(form, error.errors)

"""Routes of the auth area."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import COOKIE_NAME as DEFAULT_REMEMBER_COOKIE_NAME
from flask_login import (
    current_user,
    login_required,
    login_user,
    logout_user,
    user_loaded_from_cookie,
)

from app.auth import bp, oidc, services
from app.auth.forms import (
    ROLE_LABELS,
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    InvitationForm,
    LoginForm,
    ResetPasswordForm,
    UserForm,
)
from app.auth.models import User
from app.auth.services import directory, external, invitations, links
from app.auth.services.directory import DirectorySettings
from app.auth.services.external import ExternalLoginRefused
from app.auth.services.single_sign_on import (
    MissingIdentityClaims,
    SingleSignOnSettings,
    sign_in_with_claims,
)
from app.core.forms import attach_errors
from app.core.input import accepts_nul_characters
from app.core.roles import Role, roles_required
from app.core.services import is_safe_redirect_path
from app.extensions import db, limiter, login_manager
from app.staff.models import Department
from app.staff.services import find_department, find_employee

login_manager.login_view = "auth.login"
login_manager.login_message = None
login_manager.session_protection = "strong"

#: Longest ID token kept in the session cookie for the logout at the provider.
MAX_ID_TOKEN_IN_SESSION = 2000


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    # From the session or the remember cookie; both end with the login's session token and
    # after the remember cookie's lifetime.
    return services.user_for_session(
        db.session, session_id, lifetime=current_app.config["REMEMBER_COOKIE_DURATION"]
    )


@user_loaded_from_cookie.connect
def _protect_session_from_cookie(_app, user: User) -> None:
    # Flask-Login notes no session identifier when the remember cookie logs someone in, so
    # with session_protection="strong" the next request failed the check and deleted the
    # cookie ("stay logged in" lasted one page). Note it as login_user does.
    session["_id"] = login_manager._session_identifier_generator()


def _login_limit_per_account() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_limit_per_address() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"]


def _login_name_key() -> str:
    return "login:" + services.normalise_email(request.form.get("email", ""))


@bp.route("/login", methods=["GET", "POST"])
@accepts_nul_characters
@limiter.limit(_login_limit_per_address, methods=["POST"], scope="login-address")
@limiter.limit(
    _login_limit_per_account, methods=["POST"], key_func=_login_name_key, scope="login-account"
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    directory_settings = DirectorySettings.from_config(current_app.config)
    if directory_settings is not None:
        form.email.label.text = _("E-mail address or user name")
    next_path = request.args.get("next")
    status = 200
    if request.method == "POST" and not current_app.config["PASSWORD_LOGIN"]:
        return _login_page(form, 403, _("Logging in with a password is switched off here."))
    if form.validate_on_submit():
        try:
            user = directory.sign_in(
                db.session,
                directory_settings,
                login=form.email.data,
                password=form.password.data,
            )
        except services.AuthError as error:  # ExternalLoginRefused is one too
            db.session.rollback()
            status = _show_login_error(form, error, directory_configured=bool(directory_settings))
        else:
            db.session.commit()
            _start_session(user, remember=form.remember.data)
            return redirect(next_path if is_safe_redirect_path(next_path) else url_for("main.home"))
    return _login_page(form, status)


def _show_login_error(form: LoginForm, error: Exception, *, directory_configured: bool) -> int:
    """Put the reason a login failed on the form; returns the response's status."""
    if isinstance(error, directory.DirectoryUnavailable):
        attach_errors(
            form,
            {
                "directory": _(
                    "The directory service cannot be reached at the moment. Please try again "
                    "in a few minutes; logins with a password of this application still work."
                )
            },
        )
        return 503
    if isinstance(error, directory.DirectoryAccountDisabled):
        message = _("Your directory account is disabled. Please contact the IT service desk.")
    elif isinstance(error, ExternalLoginRefused):
        message = _refusal_message(error.reason)
    elif directory_configured:
        attach_errors(form, {"password": _("E-mail address, user name or password is wrong.")})
        return 401
    else:
        attach_errors(form, {"password": _("E-mail address or password is wrong.")})
        return 401
    attach_errors(form, {"email": message})
    return 403


def _login_page(form: LoginForm, status: int, problem: str | None = None):
    """The login page: the password form unless switched off, the single sign-on button when
    configured, and ``problem`` (why the last attempt failed) above them."""
    return render_template(
        "auth/login.html",
        form=form,
        password_login=current_app.config["PASSWORD_LOGIN"],
        directory_login=DirectorySettings.from_config(current_app.config) is not None,
        single_sign_on=SingleSignOnSettings.from_config(current_app.config) is not None,
        next_path=request.args.get("next"),
        problem=problem,
    ), status


def _start_session(user: User, *, remember: bool = False) -> None:
    # A fresh session on login (no fixation); the language choice survives.
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(services.start_session(user), remember=remember)


def _renew_session(user: User) -> None:
    """After this person's own change ended all their sessions: keep this browser logged in
    with a fresh session (and a fresh remember cookie, if it had one)."""
    cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", DEFAULT_REMEMBER_COOKIE_NAME)
    remembered = cookie_name in request.cookies
    through_provider, id_token = session.get("sso_login"), session.get("sso_id_token")
    _start_session(user, remember=remembered)
    if through_provider:
        session["sso_login"] = through_provider
    if id_token:
        session["sso_id_token"] = id_token


@bp.route("/sso/login")
def sso_login():
    """Off to the single sign-on provider; it sends the person back to ``sso_callback``."""
    settings = SingleSignOnSettings.from_config(current_app.config) or abort(404)
    next_path = request.args.get("next")
    session["sso_next"] = next_path if is_safe_redirect_path(next_path) else None
    try:
        return oidc.start_login(settings, url_for("auth.sso_callback", _external=True))
    except oidc.SingleSignOnFailed as failure:
        current_app.logger.warning("Single sign-on not started: %s", failure)
        return _login_page(LoginForm(), *_sso_problem(failure))


@bp.route("/sso/callback")
def sso_callback():
    settings = SingleSignOnSettings.from_config(current_app.config) or abort(404)
    next_path = session.pop("sso_next", None)
    try:
        claims, id_token = oidc.finish_login(settings)
        user = sign_in_with_claims(db.session, settings, claims)
    except oidc.SingleSignOnFailed as failure:
        current_app.logger.warning("Single sign-on refused: %s", failure)
        return _login_page(LoginForm(), *_sso_problem(failure))
    except MissingIdentityClaims:
        message = _(
            "Your work account tells us neither your personnel number nor your e-mail address, "
            "so you cannot be found on the staff list. Please contact the IT service desk."
        )
        return _login_page(LoginForm(), 403, message)
    except external.ExternalLoginRefused as refused:
        db.session.rollback()
        return _login_page(LoginForm(), 403, _refusal_message(refused.reason))
    db.session.commit()
    _start_session(user)
    session["sso_login"] = True
    # Kept as the logout's id_token_hint, unless it would push the session cookie past what
    # browsers store (4 KB; Entra ID tokens with many groups are larger): the logout then
    # names the client only, and the provider asks the person to confirm.
    if len(id_token) <= MAX_ID_TOKEN_IN_SESSION:
        session["sso_id_token"] = id_token
    return redirect(next_path if is_safe_redirect_path(next_path) else url_for("main.home"))


def _sso_problem(failure: oidc.SingleSignOnFailed) -> tuple[int, str]:
    if failure.reason == oidc.UNREACHABLE:
        message = _(
            "The single sign-on service cannot be reached at the moment. Please try again in a "
            "few minutes."
        )
        return 503, message
    if failure.reason == oidc.STATE_MISMATCH:
        message = _(
            "This answer of the single sign-on service belongs to no login started here, or it "
            "was used already. Please log in again."
        )
        return 400, message
    if failure.reason == oidc.CODE_REJECTED:
        message = _(
            "The single sign-on service did not confirm this login (it may have been used "
            "already or have expired). Please log in again."
        )
        return 400, message
    if failure.reason == oidc.PROVIDER_REFUSED:
        return 401, _("The login with your work account was cancelled or refused.")
    return 401, _(
        "The confirmation of the single sign-on service is invalid or has expired. Please log "
        "in again."
    )


def _refusal_message(reason: str) -> str:
    if reason == external.LEAVER:
        return _(
            "You are no longer on the staff list, so you cannot log in. If this is wrong, "
            "please contact HR."
        )
    if reason == external.LOCKED:
        return _("Your login has been locked. Please contact the administration.")
    if reason == external.LINKED_ELSEWHERE:
        return _(
            "Your e-mail address belongs to another person's login. Please contact the "
            "administration."
        )
    return _(
        "Your account matches no one on the staff list (personnel number or e-mail address). "
        "Please contact HR."
    )


def _reset_limit_per_email() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _reset_limit_per_address() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS"]


def _reset_email_key() -> str:
    return "reset:" + services.normalise_email(request.form.get("email", ""))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit_per_address, methods=["POST"], scope="reset-address")
@limiter.limit(
    _reset_limit_per_email, methods=["POST"], key_func=_reset_email_key, scope="reset-email"
)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        links.request_password_reset(
            db.session,
            email=form.email.data,
            valid_for=timedelta(minutes=current_app.config["PASSWORD_RESET_VALID_MINUTES"]),
            secret=current_app.config["SECRET_KEY"],
        )
        db.session.commit()
        # The same answer whether or not the address has a login: it reveals no accounts.
        return render_template("auth/reset_requested.html", email=form.email.data.strip())
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        links.check_reset_link(db.session, token)
    except links.LinkRefused as refused:
        return _link_refused(refused)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            links.reset_password(db.session, token=token, new_password=form.new_password.data)
        except links.LinkRefused as refused:
            db.session.rollback()
            return _link_refused(refused)
        db.session.commit()
        flash(_("Your password has been set. Please log in with it."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/invitations", methods=["GET", "POST"])
@roles_required(Role.HR, Role.ADMIN)
def invite():
    form = InvitationForm(
        personnel_number=request.args.get("personnel_number"),
        department=request.args.get("department"),
    )
    run = None
    if form.validate_on_submit():
        scope = _invitation_scope(form)
        if scope is not None:
            departments, employee_ids = scope
            run = invitations.invite_staff(
                db.session,
                departments=departments,
                employee_ids=employee_ids,
                valid_for=timedelta(days=current_app.config["INVITATION_VALID_DAYS"]),
                secret=current_app.config["SECRET_KEY"],
                dry_run=not form.confirm.data,
                # A web request invites a bounded number; pressing again continues.
                limit=current_app.config["INVITATIONS_PER_REQUEST"],
            )
            if run.dry_run:
                db.session.rollback()
            else:
                db.session.commit()
    return render_template("auth/invitations.html", form=form, run=run)


def _invitation_scope(
    form: InvitationForm,
) -> tuple[list[Department] | None, list[int] | None] | None:
    """(departments, employee ids) for the form, None for everyone; attaches an error and
    returns None as scope when a code names nothing."""
    number = (form.personnel_number.data or "").strip()
    code = (form.department.data or "").strip()
    if number:
        employee = find_employee(db.session, number)
        if employee is None:
            attach_errors(form, {"personnel_number": _("No employee has this personnel number.")})
            return None
        return None, [employee.id]
    if code:
        department = find_department(db.session, code)
        if department is None:
            attach_errors(form, {"department": _("No department has this code.")})
            return None
        return [department], None
    return None, None


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        link = invitations.check_invitation(db.session, token)
    except links.LinkRefused as refused:
        return _link_refused(refused, invitation=True)
    email = link.employee.email if link.employee else ""
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = invitations.accept_invitation(
                db.session, token=token, password=form.new_password.data
            )
        except links.LinkRefused as refused:
            db.session.rollback()
            return _link_refused(refused, invitation=True)
        db.session.commit()
        _start_session(user)
        flash(_("Welcome! Your password has been set."), "success")
        return redirect(url_for("main.home"))
    return render_template("auth/accept_invitation.html", form=form, email=email)


def _link_refused(refused: links.LinkRefused, *, invitation: bool = False):
    status = 410 if refused.reason in (links.EXPIRED, links.USED) else 404
    template = "auth/link_refused.html"
    return render_template(template, reason=refused.reason, invitation=invitation), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    through_provider, id_token = session.get("sso_login"), session.get("sso_id_token")
    # Ends the sessions of this login in every browser too, and any copied remember cookie.
    services.end_sessions(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    settings = SingleSignOnSettings.from_config(current_app.config)
    if through_provider and settings is not None:
        # Logged in through single sign-on: end the provider's session too, which then sends
        # the person back to the login page.
        return_to = url_for("auth.login", _external=True)
        provider_logout = oidc.logout_url(settings, id_token, return_to)
        if provider_logout is not None:
            return redirect(provider_logout)
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                db.session,
                current_user,
                current=form.current_password.data,
                new=form.new_password.data,
            )
        except services.WrongPassword:
            attach_errors(form, {"current_password": _("The current password is wrong.")})
        else:
            db.session.commit()
            _renew_session(current_user._get_current_object())
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/users")
@roles_required(Role.ADMIN)
def users():
    return render_template("auth/users.html", users=services.list_users(db.session))


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create_user():
    form = UserForm()
    if form.validate_on_submit():
        if not form.password.data:
            attach_errors(form, {"password": _("A new user needs an initial password.")})
        else:
            linked = _resolve_links(form)
            if linked is not None:
                employee, departments = linked
                try:
                    user = services.create_user(
                        db.session,
                        email=form.email.data,
                        password=form.password.data,
                        roles=[Role(r) for r in form.roles.data],
                        employee=employee,
                        headed_departments=departments,
                    )
                except services.AuthError as error:
                    db.session.rollback()
                    _attach_error(form, error)
                else:
                    db.session.commit()
                    flash(_("User %(email)s created.", email=user.email), "success")
                    return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=None if request.method == "POST" else _user_form_data(user))
    form.email.render_kw = {"readonly": True}
    if form.validate_on_submit():
        linked = _resolve_links(form)
        if linked is not None:
            employee, departments = linked
            try:
                services.update_user(
                    db.session,
                    user,
                    roles=[Role(r) for r in form.roles.data],
                    employee=employee,
                    headed_departments=departments,
                    active=form.active.data,
                )
                if form.password.data:
                    user.set_password(form.password.data)
                    services.password_changed(db.session, user)
            except services.AuthError as error:
                db.session.rollback()
                _attach_error(form, error)
            else:
                db.session.commit()
                if user.id == current_user.id and user.active:
                    _renew_session(user)
                flash(_("User %(email)s saved.", email=user.email), "success")
                return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user)


def _user_form_data(user: User):
    class Data:
        email = user.email
        password = ""
        personnel_number = user.employee.personnel_number if user.employee else ""
        roles = sorted(role.value for role in user.roles)
        headed_departments = ", ".join(d.code for d in user.headed_departments)
        active = user.active

    return Data()


def _resolve_links(form: UserForm):
    """Look up the employee and departments named on the form; None when one is unknown."""
    employee = None
    if form.personnel_number.data:
        employee = find_employee(db.session, form.personnel_number.data.strip())
        if employee is None:
            attach_errors(form, {"personnel_number": _("No employee has this personnel number.")})
            return None
    departments = []
    codes = [c.strip() for c in (form.headed_departments.data or "").split(",") if c.strip()]
    for code in codes:
        department = find_department(db.session, code)
        if department is None:
            attach_errors(
                form, {"headed_departments": _("Unknown department code: %(code)s", code=code)}
            )
            return None
        departments.append(department)
    return employee, departments


def _attach_error(form: UserForm, error: services.AuthError) -> None:
    if isinstance(error, services.EmailTaken):
        attach_errors(form, {"email": _("A user with this e-mail address exists already.")})
    elif isinstance(error, services.EmployeeAlreadyLinked):
        attach_errors(form, {"personnel_number": _("This employee already has a login.")})
    elif isinstance(error, services.HeadNeedsDepartment):
        attach_errors(
            form, {"headed_departments": _("A department head needs at least one department.")}
        )
    elif isinstance(error, services.PasswordTooShort):
        attach_errors(form, {"password": _("The password is too short.")})
    elif isinstance(error, services.LastAdmin):
        field = "roles" if Role.ADMIN.value not in form.roles.data else "active"
        attach_errors(
            form,
            {
                field: _(
                    "This is the last active administrator. Give another login the admin "
                    "role first (or create one with flask create-admin)."
                )
            },
        )


@bp.app_template_filter("role_label")
def _role_label(value: str) -> str:
    return str(ROLE_LABELS[Role(value)])

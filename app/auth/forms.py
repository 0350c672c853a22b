"""Input shapes of the auth pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from app.auth.services import MIN_PASSWORD_LENGTH
from app.core.forms import Form, MultiCheckboxField
from app.core.roles import Role

ROLE_LABELS = {
    Role.EMPLOYEE: _l("Employee"),
    Role.HEAD: _l("Department head"),
    Role.HR: _l("HR / training coordination"),
    Role.ADMIN: _l("Administrator"),
    Role.STAFF_COUNCIL: _l("Staff council"),
    Role.DATA_PROTECTION: _l("Data protection officer"),
}


class LoginForm(Form):
    email = StringField(
        _l("E-mail address"),
        validators=[
            DataRequired(),
            Length(max=254, message=_l("The login name is too long.")),
            # No database takes a NUL, and no login name holds a control character.
            Regexp(
                r"^[^\x00-\x1f\x7f]*\Z",
                message=_l("The login name contains characters that are not allowed."),
            ),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1000, message=_l("The password is too long."))],
    )
    remember = BooleanField(_l("Stay logged in on this device"))


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )
    confirm_password = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class UserForm(Form):
    email = EmailField(_l("E-mail address (login)"), validators=[DataRequired(), Email()])
    password = PasswordField(
        _l("Initial password"),
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )
    personnel_number = StringField(
        _l("Personnel number of the linked employee"),
        validators=[Optional(), Length(max=32)],
    )
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()],
    )
    headed_departments = StringField(
        _l("Departments headed (codes, comma-separated)"),
        validators=[Optional(), Length(max=1000)],
    )
    active = BooleanField(_l("May log in"), default=True)


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(Form):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )
    confirm_password = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class InvitationForm(Form):
    """Whom to invite: one person, a department's subtree, or (both empty) everyone."""

    personnel_number = StringField(
        _l("Personnel number (one person)"), validators=[Optional(), Length(max=32)]
    )
    department = StringField(
        _l("Department code (with everything below it)"), validators=[Optional(), Length(max=32)]
    )
    confirm = BooleanField(_l("Send the invitations now (otherwise only count)"))


class AcceptInvitationForm(ResetPasswordForm):
    pass

"""Logins from outside: the directory (LDAP / Active Directory) and single sign-on (OpenID
Connect) both end here, so one set of rules links an account to a person and gives it roles.

- An account logs in as the user it logged in as before (``UserIdentity``: source and the
  account's stable id there).
- The first time, it is linked to the employee record with its personnel number, or else
  with its e-mail address; the employee's login is reused if there is one (a local account
  then also logs in through the directory), otherwise a login is created without a password.
- A leaver (an inactive employee record) or a locked login never logs in, whatever the
  directory says. An account that matches no employee logs in only if the group mappings
  give it a role (HR or admin staff who are not on the city's staff list).
- Each login sets the roles the mappings manage (``managed_roles``: HR and admin when their
  groups are configured) to what the groups say; employee follows the employee link; head
  stays as assigned (it comes with the departments headed, not from the directory).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import IdentitySource, User, UserIdentity, UserRole
from app.auth.services import AuthError, end_sessions, normalise_email
from app.core.roles import Role
from app.core.types import DbSession, utcnow
from app.staff.models import Employee

#: Roles a directory group or a provider's claim may grant.
GROUP_ROLES = frozenset({Role.HR, Role.ADMIN})
#: Login name of an account without any e-mail address (a reserved domain: never mailed).
NO_EMAIL_DOMAIN = "personal.invalid"


class ExternalLoginRefused(AuthError):
    """The account may not log in; ``reason`` says why (see ``REASONS``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: Why an external login is refused.
NO_EMPLOYEE = "no_employee"  # matches no employee record and no group grants a role
LEAVER = "leaver"  # the employee record is inactive
LOCKED = "locked"  # the login was locked in the product
LINKED_ELSEWHERE = "linked_elsewhere"  # the e-mail's login belongs to another employee


@dataclass(frozen=True)
class ExternalAccount:
    """What the directory or the provider says about the person logging in."""

    source: IdentitySource
    subject: str
    email: str | None = None
    personnel_number: str | None = None
    #: The roles the account's groups map to (only HR and admin count).
    group_roles: frozenset[Role] = field(default_factory=frozenset)
    #: The roles whose mapping is configured: only these are set from ``group_roles``.
    managed_roles: frozenset[Role] = field(default_factory=frozenset)


def sign_in_external(db_session: DbSession, account: ExternalAccount) -> User:
    """The user ``account`` logs in as, created and linked on its first login, with its roles
    refreshed; raises ``ExternalLoginRefused``. Flushes; the caller commits."""
    granted = account.group_roles & account.managed_roles & GROUP_ROLES
    identity = _identity_of(db_session, account)
    if identity is None:
        try:
            with db_session.begin_nested():
                identity = _first_login(db_session, account, granted)
        except IntegrityError:
            # The same person's first login on another node (or a double click) came first:
            # its login and identity are committed now; log in as those.
            identity = _identity_of(db_session, account)
            if identity is None:
                raise
    user = identity.user
    if not user.active:
        raise ExternalLoginRefused(LOCKED)
    if user.employee is not None and not user.employee.active:
        raise ExternalLoginRefused(LEAVER)
    if user.employee is None and not granted:
        raise ExternalLoginRefused(NO_EMPLOYEE)
    roles_before = user.roles
    _refresh_roles(user, granted, account.managed_roles & GROUP_ROLES)
    if user.roles != roles_before:
        # The directory or provider changed the person's roles: their other sessions end
        # (this login starts a fresh one).
        end_sessions(db_session, user)
    now = utcnow()
    user.last_login_at = now
    identity.last_login_at = now
    db_session.flush()
    return user


def _identity_of(db_session: DbSession, account: ExternalAccount) -> UserIdentity | None:
    found: UserIdentity | None = db_session.scalar(
        select(UserIdentity).where(
            UserIdentity.source == account.source.value,
            UserIdentity.subject == account.subject,
        )
    )
    return found


def _first_login(
    db_session: DbSession, account: ExternalAccount, granted: frozenset[Role]
) -> UserIdentity:
    """Link the account to its employee's login (created when there is none), flushed."""
    email = normalise_email(account.email) if account.email else None
    employee = _employee_of(db_session, account.personnel_number, email)
    if employee is None and not granted:
        raise ExternalLoginRefused(NO_EMPLOYEE)
    user = _login_of(db_session, employee, email, account)
    identity = UserIdentity(source=account.source.value, subject=account.subject)
    identity.user = user
    db_session.add(identity)
    db_session.flush()
    return identity


def _employee_of(
    db_session: DbSession, personnel_number: str | None, email: str | None
) -> Employee | None:
    """The employee record with this personnel number, or else the one active record with
    this e-mail address (two people sharing an address match neither)."""
    if personnel_number and personnel_number.strip():
        found = db_session.scalar(
            select(Employee).where(Employee.personnel_number == personnel_number.strip())
        )
        if found is not None:
            return found
    if email:
        matches = db_session.scalars(
            select(Employee).where(func.lower(Employee.email) == email).limit(2)
        ).all()
        if len(matches) == 1:
            return matches[0]
    return None


def _login_of(
    db_session: DbSession, employee: Employee | None, email: str | None, account: ExternalAccount
) -> User:
    """The login the account is linked to on its first login: the employee's, else the one
    with the e-mail address, else a new one without a password."""
    if employee is not None:
        linked: User | None = db_session.scalar(select(User).where(User.employee_id == employee.id))
        if linked is not None:
            return linked
    login_name = email or (normalise_email(employee.email) if employee and employee.email else None)
    if login_name is not None:
        existing: User | None = db_session.scalar(select(User).where(User.email == login_name))
        if existing is not None:
            if employee is not None and existing.employee_id not in (None, employee.id):
                raise ExternalLoginRefused(LINKED_ELSEWHERE)
            if employee is not None:
                existing.employee = employee
            return existing
    else:
        key = employee.personnel_number if employee is not None else account.subject
        login_name = f"{account.source.value}-{_safe(key)}@{NO_EMAIL_DOMAIN}"
    user = User(email=login_name, password_hash=None, active=True, employee=employee)
    db_session.add(user)
    return user


def _safe(value: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "-" for c in value.lower())[:200]


def _refresh_roles(user: User, granted: frozenset[Role], managed: frozenset[Role]) -> None:
    wanted = {row.role for row in user.role_rows if Role(row.role) not in managed}
    wanted |= {role.value for role in granted}
    if user.employee is not None:
        wanted.add(Role.EMPLOYEE.value)
    for row in list(user.role_rows):
        if row.role not in wanted:
            user.role_rows.remove(row)
    for role in sorted(wanted - {row.role for row in user.role_rows}):
        user.role_rows.append(UserRole(role=role))

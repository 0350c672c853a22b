"""Who may log in, with which roles, and which part of the organisation they see."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import User, UserRole, new_session_token
from app.core.roles import Role
from app.core.types import DbSession, utcnow
from app.staff.models import Department, Employee

MIN_PASSWORD_LENGTH = 10
#: Compared against when the account does not exist, so a wrong e-mail costs as long as a
#: wrong password and timing does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AuthError(ValueError):
    pass


class EmailTaken(AuthError):
    pass


class WrongPassword(AuthError):
    pass


class PasswordTooShort(AuthError):
    pass


class EmployeeAlreadyLinked(AuthError):
    pass


class HeadNeedsDepartment(AuthError):
    pass


class LastAdmin(AuthError):
    """The change would leave no active login with the admin role."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(db_session: DbSession, *, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (without saying which was wrong)."""
    user: User | None = db_session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def create_user(
    db_session: DbSession,
    *,
    email: str,
    password: str,
    roles: Iterable[Role],
    employee: Employee | None = None,
    headed_departments: Iterable[Department] = (),
    locale: str | None = None,
) -> User:
    """Add a login with its roles; a head must be given at least one department."""
    email = normalise_email(email)
    if db_session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(email)
    _check_password_length(password)
    user = User(email=email, active=True, locale=locale)
    user.set_password(password)
    db_session.add(user)
    update_user(
        db_session,
        user,
        roles=roles,
        employee=employee,
        headed_departments=headed_departments,
        active=True,
    )
    return user


def update_user(
    db_session: DbSession,
    user: User,
    *,
    roles: Iterable[Role],
    employee: Employee | None,
    headed_departments: Iterable[Department],
    active: bool,
) -> User:
    """Set a user's roles, linked employee, departments headed and whether they may log in."""
    wanted = {Role(role) for role in roles}
    departments = list(headed_departments)
    if Role.HEAD in wanted and not departments:
        raise HeadNeedsDepartment(user.email)
    if user.active and Role.ADMIN in user.roles and not (active and Role.ADMIN in wanted):
        _keep_another_admin(db_session, user)
    if employee is not None:
        owner = db_session.scalar(select(User).where(User.employee_id == employee.id))
        if owner is not None and owner is not user:
            raise EmployeeAlreadyLinked(employee.personnel_number)
    current = {Role(row.role): row for row in user.role_rows}
    if wanted != current.keys() or (user.active and not active):
        end_sessions(db_session, user)
    user.employee = employee
    user.active = active
    for role, row in current.items():
        if role not in wanted:
            user.role_rows.remove(row)
    for role in wanted - current.keys():
        user.role_rows.append(UserRole(role=role.value))
    user.headed_departments = departments if Role.HEAD in wanted else []
    db_session.flush()
    return user


def _keep_another_admin(db_session: DbSession, user: User) -> None:
    """Raise LastAdmin unless an active admin other than ``user`` remains.

    The admins' rows are locked first (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
    writers), then counted in a statement of its own, which sees what a concurrent change that
    held the lock committed: two admins demoting each other at once leave one."""
    admins = (
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN.value, User.active.is_(True))
    )
    db_session.execute(admins.order_by(User.id).with_for_update(of=User)).all()
    others = db_session.scalar(
        select(func.count()).select_from(admins.where(User.id != user.id).subquery())
    )
    if not others:
        raise LastAdmin(user.email)


def change_password(db_session: DbSession, user: User, *, current: str, new: str) -> None:
    """Replace the password after checking the current one."""
    if not user.check_password(current):
        raise WrongPassword(user.email)
    _check_password_length(new)
    user.set_password(new)
    db_session.flush()
    password_changed(db_session, user)


def password_changed(db_session: DbSession, user: User) -> None:
    """What follows every new password (changed, set by an admin, from a reset link or an
    invitation): every session and remember cookie of the login ends."""
    end_sessions(db_session, user)


def end_sessions(db_session: DbSession, user: User) -> None:
    """End every session and remember cookie of this login, in every browser (a new session
    token; the ones in the cookies no longer match)."""
    user.session_token = new_session_token()
    db_session.flush()


def start_session(user: User) -> User:
    """Mark ``user`` for a session starting now (its id then carries the start, see
    ``user_for_session``)."""
    user.session_started(utcnow())
    return user


#: How far another web node's clock may run ahead of this one's.
_CLOCK_SKEW = timedelta(minutes=1)
#: Largest id a session may name (the ``users.id`` column is a 32-bit integer).
_MAX_USER_ID = 2**31 - 1


def user_for_session(db_session: DbSession, session_id: str, *, lifetime: timedelta) -> User | None:
    """The active login a session or remember cookie names (``User.get_id``), or None when its
    token was replaced, it started longer than ``lifetime`` ago, or it is malformed."""
    try:
        user_id_text, token, started_text = session_id.split(":")
        user_id, started = int(user_id_text), int(started_text)
        started_at = datetime.fromtimestamp(started, UTC)
    except (ValueError, OverflowError, OSError):
        return None  # an id from before session tokens, or garbage
    now = utcnow()
    if not 0 < user_id <= _MAX_USER_ID or not (now - lifetime < started_at <= now + _CLOCK_SKEW):
        return None
    user = db_session.scalars(_session_user(), {"user_id": user_id}).unique().one_or_none()
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    user.session_started(started_at)
    return user


@cache
def _session_user() -> Select[User]:
    """The login, its roles and its employee record in one query, run on every request: built
    once (building it anew was a tenth of a page's time)."""
    return (
        select(User)
        .where(User.id == bindparam("user_id", type_=Integer))
        .options(joinedload(User.role_rows), joinedload(User.employee))
    )


def list_users(db_session: DbSession) -> list[User]:
    return list(db_session.scalars(select(User).order_by(User.email)))


def _check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(str(MIN_PASSWORD_LENGTH))


def responsible_heads(db_session: DbSession) -> dict[int, list[User]]:
    """For every department, the active heads of the nearest department at or above it that has
    any (a Kita without its own head is looked after by the head of Kinderbetreuung)."""
    departments = db_session.scalars(select(Department)).all()
    heads: dict[int, list[User]] = {}
    for user in db_session.scalars(select(User).where(User.active.is_(True))):
        if user.has_role(Role.HEAD):
            for department in user.headed_departments:
                heads.setdefault(department.id, []).append(user)
    result = {}
    for department in departments:
        chain = [int(part) for part in department.path.strip("/").split("/") if part]
        for ancestor_id in reversed(chain):
            if ancestor_id in heads:
                result[department.id] = heads[ancestor_id]
                break
    return result


def users_with_role(db_session: DbSession, role: Role) -> list[User]:
    return [
        user
        for user in db_session.scalars(select(User).where(User.active.is_(True)))
        if user.has_role(role)
    ]

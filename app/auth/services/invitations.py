"""Invitations: staff with an e-mail address and no login get a link to set their own password.

The selection runs in SQL and the links and mails are written in batches of ``BATCH`` rows
(``INSERT … RETURNING`` and the outbox's ``enqueue_many``): inviting 50,000 people holds ids
and addresses, never 50,000 ORM objects. Running twice is safe: people with a login, or with
an invitation that is unused and not yet expired, are skipped. An address that several active
people share (a team mailbox) invites nobody: a login is one person; HR sees the addresses.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, func, insert, or_, select

from app.auth.models import LinkPurpose, LoginLink, User
from app.auth.services import (
    AuthError,
    _check_password_length,
    create_user,
    normalise_email,
    password_changed,
)
from app.auth.services.links import (
    INVALID,
    LinkRefused,
    claim_link,
    find_link,
    hash_token,
    token_for,
)
from app.core.audit import Actor, Channel, acting_as
from app.core.models import MessageKind
from app.core.outbox import NewMessage, enqueue_many
from app.core.roles import Role
from app.core.types import DbSession, utcnow
from app.staff.models import Department, Employee
from app.staff.services import subtree_ids

BATCH = 500


@dataclass
class InvitationRun:
    """What an invitation run did (or, with ``dry_run``, would do)."""

    invited: int = 0
    #: Invited before; the invitation is unused and still valid.
    already_invited: int = 0
    #: Have a login already (linked, or one with their address).
    has_login: int = 0
    #: Addresses shared by several active people: none of them is invited.
    shared_addresses: list[str] = field(default_factory=list)
    #: Still to invite after this run stopped at its ``limit`` (a second run continues).
    remaining: int = 0
    dry_run: bool = False


def invite_staff(
    db_session: DbSession,
    *,
    valid_for: timedelta,
    secret: str,
    departments: Iterable[Department] | None = None,
    employee_ids: Iterable[int] | None = None,
    dry_run: bool = False,
    limit: int | None = None,
) -> InvitationRun:
    """Invite the active staff with an address and no login: everyone, the subtrees of
    ``departments`` or the people ``employee_ids``; at most ``limit`` people (the rest are
    counted as ``remaining``). Flushes, the caller commits."""
    now = utcnow()
    scope = select(Employee.id).where(
        Employee.active.is_(True), Employee.email.is_not(None), Employee.email != ""
    )
    if departments is not None:
        scope = scope.where(Employee.department_id.in_(subtree_ids(departments)))
    if employee_ids is not None:
        scope = scope.where(Employee.id.in_(list(employee_ids)))
    address = func.lower(Employee.email)
    shared = (
        select(func.lower(Employee.email))
        .where(Employee.active.is_(True), Employee.email.is_not(None))
        .group_by(func.lower(Employee.email))
        .having(func.count() > 1)
    )
    has_login = or_(
        exists().where(User.employee_id == Employee.id),
        exists().where(User.email == address),
    )
    invited_before = exists().where(
        LoginLink.employee_id == Employee.id,
        LoginLink.purpose == LinkPurpose.INVITATION.value,
        LoginLink.used_at.is_(None),
        LoginLink.expires_at > now,
    )
    run = InvitationRun(dry_run=dry_run)
    run.has_login = _count(db_session, scope.where(has_login))
    run.shared_addresses = list(
        db_session.scalars(
            scope.with_only_columns(address).where(address.in_(shared), ~has_login).distinct()
        )
    )
    rest = scope.where(~has_login, address.not_in(shared))
    run.already_invited = _count(db_session, rest.where(invited_before))
    wanted = list(db_session.scalars(rest.where(~invited_before).order_by(Employee.id)))
    if limit is not None and not dry_run:
        run.remaining = max(0, len(wanted) - limit)
        wanted = wanted[:limit]
    run.invited = len(wanted)
    if not dry_run:
        for start in range(0, len(wanted), BATCH):
            _invite_batch(db_session, wanted[start : start + BATCH], now, valid_for, secret)
    return run


def check_invitation(db_session: DbSession, token: str) -> LoginLink:
    """The usable invitation with this token; raises LinkRefused."""
    link = find_link(db_session, token, LinkPurpose.INVITATION)
    employee = link.employee
    if employee is None or not employee.active or not employee.email:
        raise LinkRefused(INVALID)
    taken = db_session.scalar(
        select(User.id).where(
            or_(User.employee_id == employee.id, User.email == normalise_email(employee.email))
        )
    )
    if taken is not None:  # a login was made another way meanwhile
        raise LinkRefused(INVALID)
    return link


def accept_invitation(db_session: DbSession, *, token: str, password: str) -> User:
    """Create the person's login with their own password, linked to their employee record
    with the employee role, and use the invitation up; raises LinkRefused or PasswordTooShort."""
    _check_password_length(password)
    link = check_invitation(db_session, token)
    claim_link(db_session, link)
    employee = link.employee
    assert employee is not None and employee.email  # checked above
    try:
        # Not logged in yet: the audit log names the invited person as who created the login.
        with acting_as(Actor(user_id=None, name=employee.email, channel=Channel.WEB)):
            user = create_user(
                db_session,
                email=employee.email,
                password=password,
                roles=[Role.EMPLOYEE],
                employee=employee,
                locale=employee.locale,
            )
            db_session.flush()
    except AuthError:
        raise LinkRefused(INVALID) from None
    password_changed(db_session, user)
    return user


def _invite_batch(
    db_session: DbSession,
    employee_ids: list[int],
    now: datetime,
    valid_for: timedelta,
    secret: str,
) -> None:
    nonces = {employee_id: secrets.token_urlsafe(24) for employee_id in employee_ids}
    rows = [
        {
            "purpose": LinkPurpose.INVITATION.value,
            "employee_id": employee_id,
            "token_hash": hash_token(token_for(nonce, secret)),
            "created_at": now,
            "expires_at": now + valid_for,
        }
        for employee_id, nonce in nonces.items()
    ]
    # Rows come back in any order: each names its employee.
    created = db_session.execute(
        insert(LoginLink).returning(LoginLink.id, LoginLink.employee_id), rows
    ).all()
    enqueue_many(
        db_session,
        [
            NewMessage(
                f"login-link:{link_id}",
                MessageKind.INVITATION,
                {"link_id": link_id, "nonce": nonces[employee_id]},
            )
            for link_id, employee_id in created
            if employee_id is not None
        ],
    )


def _count(db_session: DbSession, query: Select[int]) -> int:
    return db_session.scalar(select(func.count()).select_from(query.subquery())) or 0

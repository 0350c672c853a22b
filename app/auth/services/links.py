"""Single-use links by e-mail that let a person set their own password ("forgot password").

A link's token is derived from a random nonce with the app's secret key. The nonce travels in
the outbox row (the mail is built from it at delivery time); only the token's SHA-256 is kept
in ``login_links``. A link is used by a conditional UPDATE (``… WHERE used_at IS NULL``), so a
double click or two web nodes cannot use it twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from app.auth.models import LinkPurpose, LoginLink, User
from app.auth.services import (
    AuthError,
    _check_password_length,
    normalise_email,
    password_changed,
)
from app.core.audit import Channel, acting_as
from app.core.audit_trail import user_actor
from app.core.models import MessageKind
from app.core.outbox import enqueue
from app.core.sql import rows_updated
from app.core.types import DbSession, utcnow

#: Why a link does nothing (``LinkRefused.reason``).
INVALID = "invalid"  # unknown or tampered token, or a login that may no longer use it
EXPIRED = "expired"
USED = "used"


class LinkRefused(AuthError):
    """The link cannot be used; ``reason`` is INVALID, EXPIRED or USED."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def request_password_reset(
    db_session: DbSession, *, email: str, valid_for: timedelta, secret: str
) -> bool:
    """Queue a mail with a reset link for the login with this address; True when one was queued.

    The caller must answer the same either way. Nothing is sent for an unknown address, a
    locked login, a leaver, or a login without a local password (directory or single sign-on)."""
    user = db_session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not may_reset(user):
        return False
    nonce = secrets.token_urlsafe(24)
    now = utcnow()
    link = LoginLink(
        purpose=LinkPurpose.RESET.value,
        user=user,
        token_hash=hash_token(token_for(nonce, secret)),
        created_at=now,
        expires_at=now + valid_for,
    )
    db_session.add(link)
    db_session.flush()
    enqueue(
        db_session,
        key=f"login-link:{link.id}",
        kind=MessageKind.PASSWORD_RESET,
        payload={"link_id": link.id, "nonce": nonce},
    )
    return True


def check_reset_link(db_session: DbSession, token: str) -> LoginLink:
    """The usable reset link with this token; raises LinkRefused."""
    link = find_link(db_session, token, LinkPurpose.RESET)
    if link.user is None or not may_reset(link.user):
        raise LinkRefused(INVALID)
    return link


def find_link(db_session: DbSession, token: str, purpose: LinkPurpose) -> LoginLink:
    """The unused, unexpired link for ``purpose`` with this token; raises LinkRefused."""
    link = db_session.scalar(select(LoginLink).where(LoginLink.token_hash == hash_token(token)))
    if link is None or link.purpose != purpose.value:
        raise LinkRefused(INVALID)
    if link.used_at is not None:
        raise LinkRefused(USED)
    if link.expires_at <= utcnow():
        raise LinkRefused(EXPIRED)
    return link


def claim_link(db_session: DbSession, link: LoginLink) -> None:
    """Use the link up, once: a conditional UPDATE, so a double click or a second web node
    finds it used; raises LinkRefused(USED) then."""
    now = utcnow()
    claimed = rows_updated(
        db_session,
        update(LoginLink)
        .where(LoginLink.id == link.id, LoginLink.used_at.is_(None), LoginLink.expires_at > now)
        .values(used_at=now),
    )
    if not claimed:
        raise LinkRefused(USED)


def reset_password(db_session: DbSession, *, token: str, new_password: str) -> User:
    """Set the password of the link's login and use the link up; raises LinkRefused or
    PasswordTooShort (then the link stays usable)."""
    _check_password_length(new_password)
    link = check_reset_link(db_session, token)
    claim_link(db_session, link)
    now = utcnow()
    user = link.user
    assert user is not None  # checked above
    with acting_as(user_actor(user, Channel.WEB)):  # not logged in yet: the link names them
        user.set_password(new_password)
        db_session.flush()
    # The other reset links of this login, mailed before, are spent too.
    db_session.execute(
        update(LoginLink)
        .where(
            LoginLink.user_id == user.id,
            LoginLink.purpose == LinkPurpose.RESET.value,
            LoginLink.used_at.is_(None),
        )
        .values(used_at=now)
    )
    db_session.flush()
    password_changed(db_session, user)
    return user


def may_reset(user: User) -> bool:
    """An active login with a local password whose employee record (if any) is not a leaver."""
    if not user.active or not user.has_password:
        return False
    return user.employee is None or user.employee.active


def token_for(nonce: str, secret: str) -> str:
    """The token in the link mailed for ``nonce``."""
    digest = hmac.new(secret.encode(), b"login-link:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

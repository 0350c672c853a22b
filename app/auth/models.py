"""Logins, their roles, and which departments a head is responsible for."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.roles import Role
from app.core.types import UTCDateTime, sql_values, utcnow
from app.extensions import Model
from app.staff.models import Department, Employee


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Model):
    """A login. Linked to an employee record when the person is on staff."""

    __tablename__ = "users"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = ("email", "active", "employee_id", "password_hash", "headed_departments")
    __audit_entity__ = "user"
    __audit_secret__ = ("password_hash",)
    __table_args__ = (
        CheckConstraint("locale IS NULL OR locale IN ('de', 'en')", name="locale_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; the login name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: None: no local password (the person logs in through the directory or single sign-on,
    #: or has not yet set one from an invitation).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL"), unique=True
    )
    #: The UI language the user chose; None means the city's default.
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Part of every session and remember cookie of this login; replaced (which ends them all)
    #: on logout, a new password, a role change and deactivation.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    employee: Mapped[Employee | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    headed_departments: Mapped[list[Department]] = relationship(
        secondary="department_heads", order_by="Department.name"
    )

    @property
    def roles(self) -> set[Role]:
        return {Role(row.role) for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """Flask-Login's alternative id, kept in the session and the remember cookie: the login,
        its current session token and when this session started (whole seconds, UTC), so that
        a new token or the end of the lifetime ends the session (auth.services.sessions)."""
        started = getattr(self, "_session_started_at", None)
        stamp = int(started.timestamp()) if started is not None else 0
        return f"{self.id}:{self.session_token}:{stamp}"

    def session_started(self, at: datetime) -> None:
        """Note when the session this object is used in started (whole seconds)."""
        self._session_started_at = at.astimezone(UTC).replace(microsecond=0)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class IdentitySource(enum.StrEnum):
    """Where an external login comes from."""

    DIRECTORY = "ldap"  # LDAP / Active Directory
    SINGLE_SIGN_ON = "oidc"  # OpenID Connect


class UserIdentity(Model):
    """An account in the directory or at the single sign-on provider that logs in as ``user``.

    ``subject`` is the account's stable id there: the entry's DN for LDAP (its objectGUID or
    entryUUID when the directory has one), issuer and ``sub`` claim for OpenID Connect."""

    __tablename__ = "user_identities"
    __table_args__ = (
        UniqueConstraint("source", "subject", name="uq_user_identities_source_subject"),
        CheckConstraint(f"source IN ({sql_values(IdentitySource)})", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LinkPurpose(enum.StrEnum):
    """What a login link in an e-mail lets its holder do."""

    RESET = "reset"  # set a new password for an existing login
    INVITATION = "invitation"  # create the login of an employee and set its password


class LoginLink(Model):
    """A single-use link sent by e-mail. Only the hash of its token is stored here; the mail is
    built later from the outbox row, which holds a nonce the token is derived from with the
    app's secret key (so neither table alone reveals a usable link)."""

    __tablename__ = "login_links"
    __table_args__ = (
        CheckConstraint(f"purpose IN ({sql_values(LinkPurpose)})", name="purpose_known"),
        CheckConstraint("user_id IS NOT NULL OR employee_id IS NOT NULL", name="has_subject"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    #: SHA-256 of the token, hex.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set once, by a conditional UPDATE, when the link is used; a used link does nothing.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()
    employee: Mapped[Employee | None] = relationship()


class UserRole(Model):
    __tablename__ = "user_roles"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = ("user_id", "role")
    __audit_entity__ = "role"
    __table_args__ = (
        UniqueConstraint("user_id", "role", name="uq_user_roles_user_role"),
        CheckConstraint(f"role IN ({sql_values(Role)})", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="role_rows")


class DepartmentHead(Model):
    """A head user is responsible for this department and everything below it."""

    __tablename__ = "department_heads"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = ("user_id", "department_id")
    __audit_entity__ = "head_assignment"
    __table_args__ = (
        UniqueConstraint("user_id", "department_id", name="uq_department_heads_user_department"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), index=True
    )

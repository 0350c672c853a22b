"""API clients (machines of the city: the HR system, an e-learning platform, time recording)
and the answers to requests sent with an ``Idempotency-Key``."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime, utcnow
from app.extensions import Model


class Scope(enum.StrEnum):
    """What a client may do; each endpoint needs one."""

    STAFF_WRITE = "staff:write"
    COMPLETIONS_WRITE = "completions:write"
    COMPLETIONS_READ = "completions:read"
    COVERAGE_READ = "coverage:read"
    ENROLMENTS_READ = "enrolments:read"


class ApiClient(Model):
    """A system that calls the API with a bearer token. Only the token's SHA-256 is stored;
    the token itself is shown once, when it is made (created or rotated)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: Granted scopes, separated by spaces (``staff:write coverage:read``).
    scopes: Mapped[str] = mapped_column(String(200), default="")
    #: SHA-256 (hex) of the current token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The token's first characters (``smk_AbCd``), to tell tokens apart in lists and logs.
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="")
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Updated at most once a minute, so a busy client does not write on every call.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiClient {self.name}>"


class IdempotentRequest(Model):
    """A changing request sent with an ``Idempotency-Key``: the hash of what was sent and the
    answer given, so a retry gets the same answer and changes nothing. The row is inserted
    before the change, in its transaction: a second request with the same key waits on the
    unique key until the first commits, then reads its answer."""

    __tablename__ = "api_idempotent_requests"
    __table_args__ = (UniqueConstraint("client_id", "key", name="uq_api_idempotent_requests_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of method, path and the canonical JSON body.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(default=0)
    response_body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

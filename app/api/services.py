"""API clients and their tokens, and the stored answers of idempotent requests.

A token is ``smk_`` followed by 43 characters of ``secrets.token_urlsafe(32)`` (256 bits);
only its SHA-256 is stored, so a stolen database holds no usable token. Rotating replaces the
token at once: the old one stops working with the commit (no overlap), so a client rotates by
deploying the new token right after it is shown.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError

from app.api.models import ApiClient, IdempotentRequest, Scope
from app.core.audit import record_change
from app.core.types import DbSession, utcnow

TOKEN_PREFIX = "smk_"  # noqa: S105 - how every token begins, no secret
#: ``last_used_at`` is written at most this often per client.
LAST_USED_EVERY = timedelta(minutes=1)
#: The advisory lock serialising the API's batches (imports lock 7,000,000 + their run's id).
BATCH_LOCK = 6_999_999


class ClientError(ValueError):
    """A client that cannot be created or changed as asked."""


class DuplicateClientName(ClientError):
    pass


class UnknownScope(ClientError):
    pass


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request."""


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: dict[str, object]


def create_client(
    db_session: DbSession, *, name: str, scopes: Iterable[str], created_by: str
) -> tuple[ApiClient, str]:
    """Add a client; returns it and its token (shown once, never stored). Caller commits."""
    name = " ".join(name.split())
    if not name:
        raise ClientError("name")
    if db_session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise DuplicateClientName(name)
    token = new_token()
    client = ApiClient(
        name=name[:100],
        scopes=_scopes_text(scopes),
        token_hash=token_hash(token),
        token_prefix=token[:10],
        created_by=created_by[:254],
    )
    db_session.add(client)
    db_session.flush()
    record_change(
        db_session,
        action="create",
        entity="api_client",
        entity_id=client.id,
        after={"name": client.name, "scopes": client.scopes},
    )
    return client, token


def rotate_token(db_session: DbSession, client: ApiClient) -> str:
    """Give the client a new token; the old one stops with the commit. Caller commits."""
    if client.revoked_at is not None:
        raise ClientError("revoked")
    token = new_token()
    client.token_hash, client.token_prefix = token_hash(token), token[:10]
    client.rotated_at = utcnow()
    record_change(db_session, action="rotate_token", entity="api_client", entity_id=client.id)
    return token


def revoke(db_session: DbSession, client: ApiClient) -> None:
    """Stop the client's token for good (a new client is needed afterwards). Caller commits."""
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        record_change(db_session, action="revoke", entity="api_client", entity_id=client.id)


def list_clients(db_session: DbSession) -> list[ApiClient]:
    return list(db_session.scalars(select(ApiClient).order_by(ApiClient.name)))


def find_client(db_session: DbSession, name: str) -> ApiClient | None:
    return db_session.scalar(select(ApiClient).where(ApiClient.name == name))


def authenticate(db_session: DbSession, token: str, *, now: datetime) -> ApiClient | None:
    """The active client holding ``token``, or None; notes when it was last used (the caller
    commits that at once, before the call's own work)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    client = db_session.scalar(select(ApiClient).where(ApiClient.token_hash == token_hash(token)))
    if client is None or client.revoked_at is not None:
        return None
    if client.last_used_at is None or client.last_used_at < now - LAST_USED_EVERY:
        # Conditional: two calls at once write it once.
        db_session.execute(
            update(ApiClient)
            .where(
                ApiClient.id == client.id,
                ApiClient.last_used_at.is_(None) | (ApiClient.last_used_at < now - LAST_USED_EVERY),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return client


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_hash(method: str, path: str, body: object) -> str:
    """What identifies a request for its ``Idempotency-Key``: method, path, canonical body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def claim_key(
    db_session: DbSession, *, client: ApiClient, key: str, fingerprint: str
) -> StoredAnswer | IdempotentRequest:
    """The stored answer for ``key`` if it was used before with the same request, else a new
    row claiming it in the caller's transaction (to be filled by ``store_answer``). A request
    with the same key running at the same time waits until this one commits.

    Raises ``IdempotencyKeyReused`` for the same key with a different request."""
    for _attempt in range(2):
        stored = db_session.scalar(
            select(IdempotentRequest).where(
                IdempotentRequest.client_id == client.id, IdempotentRequest.key == key
            )
        )
        if stored is not None:
            if stored.request_hash != fingerprint:
                raise IdempotencyKeyReused(key)
            return StoredAnswer(stored.status_code, json.loads(stored.response_body))
        claim = IdempotentRequest(client_id=client.id, key=key, request_hash=fingerprint)
        try:
            with db_session.begin_nested():
                db_session.add(claim)
                db_session.flush()
        except IntegrityError:  # the same key, committed by a parallel request meanwhile
            continue
        return claim
    raise IdempotencyKeyReused(key)  # pragma: no cover - committed, then gone


def store_answer(
    db_session: DbSession, claim: IdempotentRequest, status_code: int, body: Mapping[str, object]
) -> None:
    """Keep the answer with the claimed key; it commits with the change. Caller commits."""
    claim.status_code = status_code
    claim.response_body = json.dumps(body, default=str)
    db_session.flush()


def _scopes_text(scopes: Iterable[str]) -> str:
    chosen = sorted(set(scopes))
    known = {scope.value for scope in Scope}
    unknown = [scope for scope in chosen if scope not in known]
    if unknown:
        raise UnknownScope(", ".join(unknown))
    return " ".join(chosen)


def lock_batches(db_session: DbSession) -> None:
    """One batch of the API is checked and written at a time, so two batches naming the same
    new person cannot both insert them (PostgreSQL: a transaction-level advisory lock; on
    SQLite every transaction begins IMMEDIATE, which already admits one writer)."""
    if db_session.get_bind().dialect.name == "postgresql":
        db_session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BATCH_LOCK})


def forget_old_answers(db_session: DbSession, *, older_than: datetime, batch: int = 5000) -> int:
    """Delete stored answers to idempotent requests sent before ``older_than`` (a retry that
    late is a new request), in batches; returns how many. Safe to run twice."""
    removed = 0
    while True:
        ids = db_session.scalars(
            select(IdempotentRequest.id)
            .where(IdempotentRequest.created_at < older_than)
            .order_by(IdempotentRequest.id)
            .limit(batch)
        ).all()
        if not ids:
            return removed
        db_session.execute(delete(IdempotentRequest).where(IdempotentRequest.id.in_(ids)))
        db_session.commit()
        removed += len(ids)

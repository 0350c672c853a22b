"""Who calls: the bearer token of an API client, its scopes, and its rate limit.

Browser sessions play no part here: the session cookie is never read for the API (and
CSRF tokens are not asked for), only ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from app.api import services
from app.api.models import ApiClient, Scope
from app.api.problems import ApiProblem
from app.core.audit import Actor, Channel, acting_as
from app.core.types import utcnow
from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def calling_client() -> ApiClient | None:
    """The client whose token came with this request (looked up once per request)."""
    if "api_client" not in g:
        g.api_client = None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            g.api_client = services.authenticate(db.session, token.strip(), now=utcnow())
            db.session.commit()  # the note of its use, before the call's own work
    return cast(ApiClient | None, g.api_client)


def current_client() -> ApiClient:
    client = calling_client()
    if client is None:
        raise ApiProblem("unauthorized", headers={"WWW-Authenticate": 'Bearer realm="api"'})
    return client


def rate_limit_key() -> str:
    """Calls are counted per client; calls without a valid token per address."""
    client = calling_client()
    if client is None:
        return f"api-anonymous:{get_remote_address()}"
    return f"api-client:{client.id}"


def rate_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def requires(scope: Scope) -> Callable[[F], F]:
    """The view needs a token with ``scope``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            client = current_client()
            if scope.value not in client.scope_list:
                raise ApiProblem(
                    "insufficient-scope",
                    f"This operation needs the scope {scope.value}.",
                    headers={
                        "WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", '
                        f'scope="{scope.value}"'
                    },
                )
            return view(*args, **kwargs)

        return cast(F, checked)

    return decorate


@contextmanager
def acting_client(client: ApiClient) -> Iterator[Actor]:
    """Changes made inside are recorded in the audit log as this client's."""
    with acting_as(Actor(None, f"api: {client.name}", Channel.API)) as actor:
        yield actor

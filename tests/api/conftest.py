"""API clients for the API's tests: a token with all scopes, or with the ones a test names."""

from __future__ import annotations

import pytest

from app.api import services
from app.api.models import Scope
from app.extensions import db


@pytest.fixture
def api_token():
    """Make a client with the given scopes (all by default); returns its token."""

    def _make(*scopes: Scope, name: str | None = None) -> str:
        chosen = scopes or tuple(Scope)
        _client, token = services.create_client(
            db.session,
            name=name or f"client {len(services.list_clients(db.session)) + 1}",
            scopes=[scope.value for scope in chosen],
            created_by="test",
        )
        db.session.commit()
        return token

    return _make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

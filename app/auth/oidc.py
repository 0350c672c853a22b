"""The OpenID Connect relying party: Authlib's Flask client, built per request.

Authlib's registry (``flask_client.OAuth``) keeps one client per process and, inside it, the
provider's metadata and signing keys for good; with several web nodes and a provider that rotates
its keys, that goes stale. So each request builds the client from the current settings and the
provider's discovery document and keys are fetched when needed (two small GETs per login; the
signed session cookie carries ``state``, the PKCE verifier and the nonce between the redirect and
the callback, so any node can finish a login another node started).

Everything that can go wrong in the callback becomes one ``SingleSignOnFailed`` with a reason the
view turns into a message.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from app.auth.services.single_sign_on import SingleSignOnSettings

#: The name of the client in the session keys Authlib writes (``_state_oidc_<state>``).
CLIENT_NAME = "oidc"

#: Why a login through the provider failed.
STATE_MISMATCH = "state"  # no login started in this browser, or the answer came twice
PROVIDER_REFUSED = "refused"  # the provider answered error=… (the person cancelled, no access)
CODE_REJECTED = "code"  # the token endpoint refused the code (used before, expired)
TOKEN_INVALID = "token"  # noqa: S105 (a reason, no secret): the ID token's signature, issuer, audience, expiry or nonce is wrong
UNREACHABLE = "unreachable"  # the provider did not answer


class SingleSignOnFailed(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def start_login(settings: SingleSignOnSettings, redirect_uri: str) -> Response:
    """The redirect to the provider's login (code flow, PKCE S256, state and nonce kept in the
    session); raises ``SingleSignOnFailed(UNREACHABLE)``."""
    try:
        return _client(settings).authorize_redirect(redirect_uri)
    except (requests.RequestException, ValueError) as error:
        raise SingleSignOnFailed(UNREACHABLE, str(error)) from error


def finish_login(settings: SingleSignOnSettings) -> tuple[dict[str, Any], str]:
    """The validated claims of the person the provider sent back (the ID token's, completed
    from the userinfo endpoint when a configured claim is missing) and the raw ID token."""
    client = _client(settings)
    try:
        token = client.authorize_access_token()
    except MismatchingStateError as error:
        raise SingleSignOnFailed(STATE_MISMATCH) from error
    except OAuthError as error:
        # The callback's error=… (the provider refused) or the token endpoint's (the code).
        reason = PROVIDER_REFUSED if error.error in _AUTHORIZATION_ERRORS else CODE_REJECTED
        raise SingleSignOnFailed(reason, f"{error.error}: {error.description}") from error
    except JoseError as error:
        raise SingleSignOnFailed(TOKEN_INVALID, repr(error)) from error
    except requests.RequestException as error:
        raise SingleSignOnFailed(UNREACHABLE, str(error)) from error
    except ValueError as error:  # a malformed answer (not JSON, a bad claim)
        raise SingleSignOnFailed(TOKEN_INVALID, str(error)) from error
    id_claims = token.get("userinfo")
    if not id_claims:  # no ID token, or the session held no nonce for it: nothing validated
        raise SingleSignOnFailed(TOKEN_INVALID, "no ID token")
    claims = dict(id_claims)
    if any(name not in claims for name in settings.claim_names):
        claims = _with_userinfo(client, token, claims)
    return claims, token["id_token"]


def logout_url(settings: SingleSignOnSettings, id_token: str | None, return_to: str) -> str | None:
    """Where to end the session at the provider (RP-initiated logout), or None when the
    provider offers no end-session endpoint or cannot be reached."""
    client = _client(settings)
    try:
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        result = client.create_logout_url(
            post_logout_redirect_uri=return_to,
            id_token_hint=id_token,
            client_id=settings.client_id,
        )
    except (requests.RequestException, ValueError):
        return None
    url: str = result["url"]
    return url


#: Errors the authorization endpoint sends back to the callback (RFC 6749 4.1.2.1, OIDC 3.1.2.6).
_AUTHORIZATION_ERRORS = frozenset(
    {
        "access_denied",
        "unauthorized_client",
        "invalid_request",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "unsupported_response_type",
        "login_required",
        "interaction_required",
        "consent_required",
        "account_selection_required",
    }
)


def _client(settings: SingleSignOnSettings) -> FlaskOAuth2App:
    scopes = settings.scopes.split()
    if "openid" not in scopes:  # without it there is no ID token to validate
        scopes.insert(0, "openid")
    client_kwargs: dict[str, Any] = {
        "scope": " ".join(scopes),
        "code_challenge_method": "S256",
        "default_timeout": settings.timeout,
    }
    if settings.client_secret is None:
        client_kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105 (a method's name)
    return FlaskOAuth2App(
        FlaskIntegration(CLIENT_NAME),
        name=CLIENT_NAME,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.discovery_url,
        client_kwargs=client_kwargs,
    )


def _with_userinfo(
    client: FlaskOAuth2App, token: dict[str, Any], claims: dict[str, Any]
) -> dict[str, Any]:
    """The ID token's claims completed from the userinfo endpoint (providers such as
    oidc-provider put only ``sub`` into the ID token); its ``sub`` must be the same person."""
    if not client.load_server_metadata().get("userinfo_endpoint"):
        return claims
    try:
        userinfo = client.userinfo(token=token)
    except requests.HTTPError as error:
        raise SingleSignOnFailed(TOKEN_INVALID, f"userinfo: {error}") from error
    except requests.RequestException as error:
        raise SingleSignOnFailed(UNREACHABLE, f"userinfo: {error}") from error
    if userinfo.get("sub") != claims.get("sub"):
        raise SingleSignOnFailed(TOKEN_INVALID, "userinfo is about another sub")
    return {**userinfo, **claims}

"""Single sign-on (OpenID Connect): what the settings say and what a provider's claims mean.

The protocol itself (authorization code flow with PKCE, ID token validation) is Authlib's, in
``app.auth.oidc``; this module turns the validated claims into an ``ExternalAccount`` and hands it
to the rules every external login follows (``external.sign_in_external``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.auth.models import IdentitySource, User
from app.auth.services import AuthError
from app.auth.services.external import ExternalAccount, sign_in_external
from app.core.roles import Role
from app.core.types import DbSession


class MissingIdentityClaims(AuthError):
    """The provider named neither a personnel number nor an e-mail address (nor a known sub)."""


@dataclass(frozen=True)
class SingleSignOnSettings:
    """The ``OIDC_*`` settings; ``from_config`` gives None while single sign-on is off."""

    discovery_url: str
    client_id: str
    client_secret: str | None
    scopes: str
    email_claim: str
    personnel_number_claim: str
    groups_claim: str | None
    group_hr: str | None
    group_admin: str | None
    timeout: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SingleSignOnSettings | None:
        discovery_url = config.get("OIDC_DISCOVERY_URL")
        issuer = config.get("OIDC_ISSUER")
        if not discovery_url and issuer:
            discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        client_id = config.get("OIDC_CLIENT_ID")
        if not discovery_url or not client_id:
            return None
        return cls(
            discovery_url=discovery_url,
            client_id=client_id,
            client_secret=config.get("OIDC_CLIENT_SECRET") or None,
            scopes=config.get("OIDC_SCOPES") or "openid",
            email_claim=config.get("OIDC_EMAIL_CLAIM") or "email",
            personnel_number_claim=config.get("OIDC_PERSONNEL_NUMBER_CLAIM") or "",
            groups_claim=config.get("OIDC_GROUPS_CLAIM") or None,
            group_hr=config.get("OIDC_GROUP_HR") or None,
            group_admin=config.get("OIDC_GROUP_ADMIN") or None,
            timeout=int(config.get("OIDC_TIMEOUT") or 10),
        )

    @property
    def claim_names(self) -> tuple[str, ...]:
        """The claims the app reads besides ``sub``."""
        names = [self.email_claim, self.personnel_number_claim, self.groups_claim]
        return tuple(name for name in names if name)


def sign_in_with_claims(
    db_session: DbSession, settings: SingleSignOnSettings, claims: Mapping[str, Any]
) -> User:
    """The user the provider's validated claims (``iss``, ``sub`` and the configured ones) log
    in as; raises ``MissingIdentityClaims`` or ``ExternalLoginRefused``. Flushes."""
    return sign_in_external(db_session, account_from_claims(settings, claims))


def account_from_claims(
    settings: SingleSignOnSettings, claims: Mapping[str, Any]
) -> ExternalAccount:
    """The account the claims describe: subject ``issuer|sub``, e-mail, personnel number and
    the roles its groups map to."""
    issuer, sub = _text(claims.get("iss")), _text(claims.get("sub"))
    if not issuer or not sub:
        raise MissingIdentityClaims("iss/sub")
    email = _text(claims.get(settings.email_claim))
    personnel_number = (
        _text(claims.get(settings.personnel_number_claim))
        if settings.personnel_number_claim
        else None
    )
    groups = _groups(claims.get(settings.groups_claim)) if settings.groups_claim else set()
    mappings = {Role.HR: settings.group_hr, Role.ADMIN: settings.group_admin}
    managed = frozenset(role for role, group in mappings.items() if group)
    granted = frozenset(role for role, group in mappings.items() if group and group in groups)
    if not email and not personnel_number:
        raise MissingIdentityClaims(sub)
    return ExternalAccount(
        source=IdentitySource.SINGLE_SIGN_ON,
        subject=f"{issuer}|{sub}",
        email=email,
        personnel_number=personnel_number,
        group_roles=granted,
        managed_roles=managed,
    )


def _text(value: object) -> str | None:
    """A claim as text: numbers (a personnel number in JSON) become strings; empty is None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int)):
        text = str(value).strip()
        return text or None
    return None


def _groups(value: object) -> set[str]:
    """A groups claim as a set: a list of names or ids, or one name (some providers send that)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, (list, tuple)):
        return {str(item) for item in value if isinstance(item, (str, int))}
    return set()

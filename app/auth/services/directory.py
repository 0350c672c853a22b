"""Login through the directory (LDAP / Active Directory), with the ldap3 client library.

The person is searched with the service account, then their password is checked by binding as
them on a connection of its own; the password is never stored, and an empty one is never sent
(many servers take a bind without a password as an anonymous bind and answer "success").
What the directory says about the person (personnel number, e-mail, groups) then goes through
``external.sign_in_external``, the rules every external login follows.
"""

from __future__ import annotations

import logging
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import (
    LDAPException,
    LDAPPasswordIsMandatoryError,
    LDAPSASLPrepError,
)
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from app.auth.models import IdentitySource, User
from app.auth.services import AuthError, authenticate
from app.auth.services.external import ExternalAccount, sign_in_external
from app.core.roles import Role
from app.core.types import DbSession

log = logging.getLogger(__name__)

#: AD's userAccountControl flag ACCOUNTDISABLE.
AD_ACCOUNT_DISABLED = 0x2
#: AD answers a bind of a disabled account (with the right password) with this code.
_AD_DISABLED_BIND = "data 533"


class DirectoryError(AuthError):
    pass


class WrongCredentials(DirectoryError):
    """Unknown login name or wrong password: deliberately one error, so nobody learns which."""


class DirectoryAccountDisabled(DirectoryError):
    """The account is disabled in the directory, or does not match ``LDAP_USER_FILTER``."""


class DirectoryUnavailable(DirectoryError):
    """The directory cannot be reached, refuses TLS or the service account (see the log)."""


class _BindRefused(LDAPException):
    """The directory answered a bind with something other than success."""

    def __init__(self, who: str, result: Mapping[str, Any]) -> None:
        super().__init__(f"bind as {who}: {result.get('description')} {result.get('message')}")
        self.result = result


class _SearchFailed(LDAPException):
    pass


#: The search answers that are no error: success, and more entries than asked for.
_SEARCH_OK = {0, 4}
#: invalidCredentials, the answer to a wrong password (or an unknown DN).
_INVALID_CREDENTIALS = 49


@dataclass(frozen=True)
class DirectorySettings:
    """How to reach the directory and read people from it (the ``LDAP_*`` settings)."""

    url: str
    user_base: str
    login_attribute: str = "sAMAccountName"
    personnel_number_attribute: str = "employeeID"
    mail_attribute: str = "mail"
    id_attribute: str = "objectGUID"
    start_tls: bool = False
    ca_file: str | None = None
    timeout: int = 5
    bind_dn: str | None = None
    bind_password: str | None = None
    user_filter: str = ""
    group_hr: str = ""
    group_admin: str = ""
    group_membership: str = "memberOf"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DirectorySettings | None:
        """The settings from the app's configuration; None when no directory is configured."""
        if not config.get("LDAP_URL"):
            return None
        return cls(
            url=config["LDAP_URL"],
            user_base=config.get("LDAP_USER_BASE") or "",
            login_attribute=config.get("LDAP_LOGIN_ATTRIBUTE") or "sAMAccountName",
            personnel_number_attribute=config.get("LDAP_PERSONNEL_NUMBER_ATTRIBUTE") or "",
            mail_attribute=config.get("LDAP_MAIL_ATTRIBUTE") or "",
            id_attribute=config.get("LDAP_ID_ATTRIBUTE") or "",
            start_tls=bool(config.get("LDAP_START_TLS")),
            ca_file=config.get("LDAP_CA_FILE") or None,
            timeout=int(config.get("LDAP_TIMEOUT") or 5),
            bind_dn=config.get("LDAP_BIND_DN") or None,
            bind_password=config.get("LDAP_BIND_PASSWORD") or None,
            user_filter=(config.get("LDAP_USER_FILTER") or "").strip(),
            group_hr=(config.get("LDAP_GROUP_HR") or "").strip(),
            group_admin=(config.get("LDAP_GROUP_ADMIN") or "").strip(),
            group_membership=config.get("LDAP_GROUP_MEMBERSHIP") or "memberOf",
        )

    @property
    def role_groups(self) -> dict[Role, str]:
        """The configured group DN of each role the directory manages."""
        groups = {Role.HR: self.group_hr, Role.ADMIN: self.group_admin}
        return {role: dn for role, dn in groups.items() if dn}


def sign_in(
    db_session: DbSession, settings: DirectorySettings | None, *, login: str, password: str
) -> User:
    """The user logging in: a local account with this e-mail address and password first, then
    the directory when one is configured. Raises ``WrongCredentials`` when neither knows the
    pair, or what ``sign_in_with_directory`` raises. Flushes; the caller commits."""
    user = authenticate(db_session, email=login, password=password)
    if user is not None:
        return user
    if settings is None:
        raise WrongCredentials()
    return sign_in_with_directory(db_session, settings, login=login, password=password)


def sign_in_with_directory(
    db_session: DbSession, settings: DirectorySettings, *, login: str, password: str
) -> User:
    """The user whose directory account has this login name and password, created and linked
    on the first login, with group roles refreshed; raises ``DirectoryError`` or
    ``ExternalLoginRefused``. Flushes; the caller commits."""
    account = read_directory_account(settings, login=login, password=password)
    return sign_in_external(db_session, account)


def read_directory_account(
    settings: DirectorySettings, *, login: str, password: str
) -> ExternalAccount:
    """Check the login name and password against the directory and say who the person is."""
    login = login.strip()
    if not login or not password:
        raise WrongCredentials()
    try:
        service = _connect(settings, settings.bind_dn, settings.bind_password)
        try:
            entry = _find_person(service, settings, login)
            if entry is None:
                # A bind as nobody, so an unknown name takes as long as a wrong password.
                _check_password(settings, _nobody_dn(settings), password)
                raise WrongCredentials()
            _check_password(settings, entry["dn"], password)
            attributes = entry["raw_attributes"]
            if _disabled(attributes) or not _matches_user_filter(service, settings, entry["dn"]):
                raise DirectoryAccountDisabled()
            group_roles = _group_roles(service, settings, entry["dn"], attributes)
        finally:
            # ldap3's context manager leaves a connection bound before it open: close it here.
            service.unbind()
    except LDAPException as error:
        log.warning("Directory %s not usable: %s", settings.url, error)
        raise DirectoryUnavailable(str(error)) from error
    return ExternalAccount(
        source=IdentitySource.DIRECTORY,
        subject=_stable_id(settings, entry["dn"], attributes),
        email=_first_text(attributes, settings.mail_attribute),
        personnel_number=_first_text(attributes, settings.personnel_number_attribute),
        group_roles=frozenset(group_roles),
        managed_roles=frozenset(settings.role_groups),
    )


def _connect(settings: DirectorySettings, user: str | None, password: str | None) -> Connection:
    """An open connection, TLS started when configured, bound as ``user`` (or anonymously)."""
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file)
    # get_info=NONE: no schema read on every login; attributes are read raw below.
    server = Server(settings.url, tls=tls, get_info=NONE, connect_timeout=settings.timeout)
    connection = Connection(
        server,
        user=user,
        password=password,
        receive_timeout=settings.timeout,
        read_only=True,
        raise_exceptions=False,
        # A referral to another domain controller would be a second wait; AD's searches of
        # one domain need none.
        auto_referrals=False,
    )
    try:
        connection.open()
        if settings.start_tls and not server.ssl:
            connection.start_tls()
        if not connection.bind():
            raise _BindRefused(user or "anonymous", dict(connection.result))
    except BaseException:
        connection.unbind()
        raise
    return connection


def _find_person(
    connection: Connection, settings: DirectorySettings, login: str
) -> dict[str, Any] | None:
    """The one entry with this login name, or None (none, or more than one)."""
    search_filter = f"({settings.login_attribute}={escape_filter_chars(login)})"
    wanted = [
        name
        for name in (
            settings.mail_attribute,
            settings.personnel_number_attribute,
            settings.id_attribute,
            "userAccountControl",
            "memberOf" if settings.group_membership.lower() == "memberof" else "",
        )
        if name
    ]
    connection.search(settings.user_base, search_filter, SUBTREE, attributes=wanted, size_limit=2)
    if connection.result.get("result") not in _SEARCH_OK:
        raise _SearchFailed(
            f"search in {settings.user_base}: {connection.result.get('description')}"
        )
    entries: list[dict[str, Any]] = [
        item for item in connection.response or [] if item.get("type") == "searchResEntry"
    ]
    if len(entries) != 1:
        if len(entries) > 1:
            log.warning("Directory login name %r matches several entries: refused", login)
        return None
    return entries[0]


def _check_password(settings: DirectorySettings, dn: str, password: str) -> None:
    """Bind as the person on a connection of their own; a refused bind is a wrong password."""
    try:
        connection = _connect(settings, dn, password)
    except (LDAPSASLPrepError, LDAPPasswordIsMandatoryError):
        # Characters no password may hold (RFC 4013): refused before anything is sent.
        raise WrongCredentials() from None
    except _BindRefused as refused:
        if refused.result.get("result") != _INVALID_CREDENTIALS:
            raise
        if _AD_DISABLED_BIND in str(refused.result.get("message", "")):
            raise DirectoryAccountDisabled() from None
        raise WrongCredentials() from None
    connection.unbind()


def _nobody_dn(settings: DirectorySettings) -> str:
    return f"cn=no-such-account-{uuid.uuid4().hex},{settings.user_base}".rstrip(",")


def _disabled(attributes: Mapping[str, list[bytes]]) -> bool:
    control = _first_text(attributes, "userAccountControl")
    return (
        control is not None
        and control.lstrip("-").isdigit()
        and (int(control) & AD_ACCOUNT_DISABLED) != 0
    )


def _matches_user_filter(connection: Connection, settings: DirectorySettings, dn: str) -> bool:
    if not settings.user_filter:
        return True
    user_filter = settings.user_filter
    if not user_filter.startswith("("):
        user_filter = f"({user_filter})"
    connection.search(dn, user_filter, BASE, attributes=[])
    return any(item.get("type") == "searchResEntry" for item in connection.response or [])


def _group_roles(
    connection: Connection,
    settings: DirectorySettings,
    dn: str,
    attributes: Mapping[str, list[bytes]],
) -> set[Role]:
    """The roles whose group has the person as a member."""
    groups = settings.role_groups
    if settings.group_membership.lower() == "memberof":
        member_of = {_normal_dn(value.decode("utf-8")) for value in _values(attributes, "memberOf")}
        return {role for role, group in groups.items() if _normal_dn(group) in member_of}
    roles = set()
    member_filter = f"(member={escape_filter_chars(dn)})"
    for role, group in groups.items():
        connection.search(group, member_filter, BASE, attributes=[])
        if any(item.get("type") == "searchResEntry" for item in connection.response or []):
            roles.add(role)
    return roles


def _stable_id(settings: DirectorySettings, dn: str, attributes: Mapping[str, list[bytes]]) -> str:
    """objectGUID (16 bytes) or entryUUID when the directory has one, else the DN."""
    values = _values(attributes, settings.id_attribute) if settings.id_attribute else []
    if values:
        raw = values[0]
        if settings.id_attribute.lower() == "objectguid" and len(raw) == 16:
            return str(uuid.UUID(bytes_le=raw))  # AD's binary GUID, as AD's tools print it
        return raw.decode("utf-8", errors="replace").lower()
    return _normal_dn(dn)


def _values(attributes: Mapping[str, list[bytes]], name: str) -> list[bytes]:
    # The directory may spell an attribute's name in another case than the setting.
    for key, values in attributes.items():
        if key.lower() == name.lower():
            return list(values or [])
    return []


def _first_text(attributes: Mapping[str, list[bytes]], name: str) -> str | None:
    if not name:
        return None
    for value in _values(attributes, name):
        text = value.decode("utf-8", errors="replace").strip()
        if text:
            return text
    return None


def _normal_dn(dn: str) -> str:
    """A DN compared without regard to case or spaces around its separators."""
    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except LDAPException:
        return dn.strip().lower()
    return ",".join(f"{name}={value}" for name, value, _separator in parts).lower()

"""Single sign-on against a real OpenID Connect provider (oidc-provider on node, tests/oidc/):
the code flow with PKCE, the linking and role rules, what goes wrong, and logout."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine

from app import create_app
from app.auth.models import User, UserIdentity
from app.auth.services.single_sign_on import (
    MissingIdentityClaims,
    SingleSignOnSettings,
    account_from_claims,
)
from app.core.roles import Role
from app.core.types import utcnow
from app.extensions import db as _db
from config import TestConfig
from tests.conftest import IsolatedClient, csrf_token
from tests.factories import DEFAULT_PASSWORD
from tests.oidc.server import (
    APP,
    CLIENT_ID,
    CLIENT_SECRET,
    Provider,
    free_port,
    start_provider,
    stop_provider,
)

BUTTON = "Mit Dienstkonto anmelden"


@pytest.fixture(scope="session")
def oidc_provider():
    provider = start_provider()
    yield provider
    stop_provider(provider)


@pytest.fixture
def sso(app, monkeypatch, oidc_provider) -> Provider:
    """Single sign-on switched on for this test only (the app reads it per request)."""
    settings = {
        "OIDC_ISSUER": oidc_provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PERSONNEL_NUMBER_CLAIM": "employee_number",
        "OIDC_GROUPS_CLAIM": "groups",
        "OIDC_GROUP_HR": "gg-schulung-hr",
        "OIDC_GROUP_ADMIN": "gg-schulung-admin",
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    return oidc_provider


def start(client, path: str = "/auth/sso/login") -> str:
    """Click the button; returns the provider's authorization URL the browser is sent to."""
    response = client.get(path)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def back_to_app(client, url: str, **kwargs):
    assert url.startswith(APP), url
    return client.get(url.removeprefix(APP), **kwargs)


def sso_login(client, provider: Provider, account: str, path: str = "/auth/sso/login"):
    return back_to_app(client, provider.login(start(client, path), account))


def test_the_first_login_creates_and_links_a_login_and_the_second_reuses_it(client, sso, make, db):
    erika = make.employee(personnel_number="4711", email="e.muster@stadt.example")
    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(sso.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["scope"] == ["openid email profile"] and query["state"] and query["nonce"]

    response = back_to_app(client, sso.login(authorize, "erika"))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Hallo" in client.get("/").get_data(as_text=True)
    user = db.session.query(User).one()
    assert user.employee == erika and not user.has_password
    assert user.email == "erika.muster@stadt.example"
    assert user.roles == {Role.EMPLOYEE}
    identity = db.session.query(UserIdentity).one()
    assert (identity.source, identity.subject) == ("oidc", f"{sso.issuer}|erika")

    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302
    # The second login: the same user, through the identity; a safe next path is kept.
    response = sso_login(client, sso, "erika", "/auth/sso/login?next=/courses/")
    assert response.headers["Location"] == "/courses/"
    db.session.expire_all()
    assert db.session.query(User).count() == db.session.query(UserIdentity).count() == 1


def test_the_groups_claim_gives_hr_and_each_login_refreshes_it(
    client, sso, make, db, app, monkeypatch
):
    make.employee(personnel_number="4712")
    assert sso_login(client, sso, "hanna").status_code == 302
    user = db.session.query(User).one()
    assert user.roles == {Role.EMPLOYEE, Role.HR}
    assert client.get("/staff/employees").status_code == 200  # an HR page

    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    # HR is now another group's: the next login takes the role away.
    monkeypatch.setitem(app.config, "OIDC_GROUP_HR", "gg-andere-gruppe")
    assert sso_login(client, sso, "hanna").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).roles == {Role.EMPLOYEE}


def test_a_role_the_provider_takes_away_ends_the_persons_other_sessions(
    client, sso, make, app, monkeypatch
):
    make.employee(personnel_number="4712")
    assert sso_login(client, sso, "hanna").status_code == 302
    assert client.get("/staff/employees").status_code == 200
    # The same person logs in on another PC after HR became another group's.
    monkeypatch.setitem(app.config, "OIDC_GROUP_HR", "gg-andere-gruppe")
    other_pc = app.test_client()
    assert sso_login(other_pc, sso, "hanna").status_code == 302
    assert other_pc.get("/courses/").status_code == 200
    assert client.get("/courses/").status_code == 302  # the first PC's session has ended


def test_an_account_without_personnel_number_is_linked_by_e_mail(client, sso, make, db):
    jonas = make.employee(email="jonas.weber@stadt.example")
    assert sso_login(client, sso, "ohne-nummer").status_code == 302
    assert db.session.query(User).one().employee == jonas


def test_an_account_without_personnel_number_and_e_mail_gets_a_clear_message(client, sso, db):
    response = sso_login(client, sso, "ohne-alles")
    assert response.status_code == 403
    assert "weder Ihre Personalnummer noch Ihre E-Mail-Adresse" in response.get_data(as_text=True)
    assert db.session.query(User).count() == 0
    assert client.get("/").status_code == 302


def test_an_account_matching_nobody_or_a_leaver_is_refused(client, sso, make, db):
    response = sso_login(client, sso, "erika")
    assert response.status_code == 403
    assert "passt zu niemandem in der Personalliste" in response.get_data(as_text=True)
    make.employee(personnel_number="4711", active=False)
    response = sso_login(client, sso, "erika")
    assert response.status_code == 403
    assert "nicht mehr in der Personalliste" in response.get_data(as_text=True)
    assert db.session.query(User).count() == 0


def test_a_wrong_state_is_refused(client, sso, make, db):
    make.employee(personnel_number="4711")
    callback = sso.login(start(client), "erika")
    query = parse_qs(urlsplit(callback).query)
    forged = f"{APP}/auth/sso/callback?code={query['code'][0]}&state=forged-state"
    response = back_to_app(client, forged)
    assert response.status_code == 400
    assert "gehört zu keiner hier begonnenen Anmeldung" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert db.session.query(User).count() == 0


def test_a_replayed_code_is_refused(client, sso, make, app):
    make.employee(personnel_number="4711")
    callback = sso.login(start(client), "erika")
    assert back_to_app(client, callback).status_code == 302

    # The same answer again, in the same browser: its state was used up.
    again = back_to_app(client, callback)
    assert again.status_code == 400
    assert "schon verwendet" in again.get_data(as_text=True)

    # The code with a fresh state in another browser: the provider refuses the used code.
    thief = app.test_client()
    fresh_state = parse_qs(urlsplit(start(thief)).query)["state"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    stolen = back_to_app(thief, f"{APP}/auth/sso/callback?code={code}&state={fresh_state}")
    assert stolen.status_code == 400
    assert "nicht bestätigt" in stolen.get_data(as_text=True)
    assert thief.get("/").status_code == 302


def test_an_expired_id_token_is_refused(client, sso, make, db):
    make.employee(personnel_number="4711")
    callback = sso.login(start(client), "erika")
    # The answer arrives two hours later (the provider's ID tokens live one hour).
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=True):
        response = back_to_app(client, callback)
    assert response.status_code == 401
    assert "ungültig oder abgelaufen" in response.get_data(as_text=True)
    assert db.session.query(User).count() == 0


def test_a_login_the_person_cancelled_at_the_provider_is_refused(client, sso):
    response = sso_login(client, sso, "deny")
    assert response.status_code == 401
    assert "abgebrochen oder abgelehnt" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_an_unreachable_provider_gets_a_clear_message(client, sso, app, monkeypatch):
    monkeypatch.setitem(app.config, "OIDC_ISSUER", f"http://127.0.0.1:{free_port()}")
    response = client.get("/auth/sso/login")
    assert response.status_code == 503
    assert "Anmeldedienst ist im Moment nicht erreichbar" in response.get_data(as_text=True)


def test_logout_ends_the_app_session_and_the_providers(client, sso, make):
    make.employee(personnel_number="4711")
    browser = requests.Session()  # the browser's cookies at the provider
    callback = sso.follow(browser, start(client) + "&login_hint=erika")
    back_to_app(client, callback)
    # Logged in at the provider: the next login there needs no interaction.
    next_login = start(client.application.test_client())
    assert sso.follow(browser, next_login).startswith(f"{APP}/auth/sso/callback?")

    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    end_session = response.headers["Location"]
    query = parse_qs(urlsplit(end_session).query)
    assert end_session.startswith(sso.issuer + "/session/end?")
    assert query["id_token_hint"] and query["post_logout_redirect_uri"] == [f"{APP}/auth/login"]
    assert client.get("/").status_code == 302  # the app's session is gone

    assert sso.confirm_logout(browser, end_session).startswith(f"{APP}/auth/login?")
    # The provider's session is gone too: the next login asks for the person again.
    again = browser.get(start(client.application.test_client()), allow_redirects=False)
    assert "/interaction/" in again.headers["Location"]


def test_the_button_shows_only_when_single_sign_on_is_configured(client, app, monkeypatch):
    assert BUTTON not in client.get("/auth/login").get_data(as_text=True)
    assert client.get("/auth/sso/login").status_code == 404
    monkeypatch.setitem(app.config, "OIDC_ISSUER", "https://login.stadt.example")
    monkeypatch.setitem(app.config, "OIDC_CLIENT_ID", CLIENT_ID)
    page = client.get("/auth/login").get_data(as_text=True)
    assert BUTTON in page and 'name="password"' in page


def test_the_password_form_can_be_switched_off(client, sso, make, app, monkeypatch):
    make.user("erika@stadt.example")
    token = csrf_token(client, "/auth/login")
    monkeypatch.setitem(app.config, "PASSWORD_LOGIN", False)
    page = client.get("/auth/login").get_data(as_text=True)
    assert BUTTON in page and 'name="password"' not in page
    refused = client.post(
        "/auth/login",
        data={"email": "erika@stadt.example", "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert refused.status_code == 403
    assert "Anmeldung mit Passwort ist hier abgeschaltet" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_provider_that_goes_away_during_the_login_gets_a_clear_message(client, sso, app, make):
    make.employee(personnel_number="4711")
    callback = sso.login(start(client), "erika")
    app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{free_port()}"  # the sso fixture restores it
    response = back_to_app(client, callback)
    assert response.status_code == 503
    assert "nicht erreichbar" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_claims_as_providers_send_them(app):
    """Personnel numbers as JSON numbers, one group as a plain string, blanks as missing."""
    settings = SingleSignOnSettings.from_config(
        {
            "OIDC_DISCOVERY_URL": "https://login.example/.well-known/openid-configuration",
            "OIDC_CLIENT_ID": "app",
            "OIDC_EMAIL_CLAIM": "upn",
            "OIDC_PERSONNEL_NUMBER_CLAIM": "employeeid",
            "OIDC_GROUPS_CLAIM": "roles",
            "OIDC_GROUP_ADMIN": "Schulung.Admin",
        }
    )
    assert settings is not None
    account = account_from_claims(
        settings,
        {"iss": "https://login.example", "sub": "abc", "employeeid": 4711, "upn": " ",
         "roles": "Schulung.Admin"},
    )  # fmt: skip
    assert account.subject == "https://login.example|abc"
    assert (account.personnel_number, account.email) == ("4711", None)
    assert account.group_roles == account.managed_roles == {Role.ADMIN}
    with pytest.raises(MissingIdentityClaims):
        account_from_claims(settings, {"iss": "https://login.example", "sub": "abc", "upn": ""})
    assert SingleSignOnSettings.from_config({"OIDC_CLIENT_ID": "app"}) is None


def test_an_id_token_too_large_for_the_cookie_still_logs_out_at_the_provider(
    client, sso, make, monkeypatch
):
    monkeypatch.setattr("app.auth.views.MAX_ID_TOKEN_IN_SESSION", 10)
    make.employee(personnel_number="4711")
    browser = requests.Session()
    back_to_app(client, sso.follow(browser, start(client) + "&login_hint=erika"))
    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert "id_token_hint" not in query and query["client_id"] == [CLIENT_ID]
    assert client.get("/").status_code == 302
    back = sso.confirm_logout(browser, response.headers["Location"])
    assert back.startswith(f"{APP}/auth/login?")


def test_another_web_node_finishes_a_login_this_one_started(client, sso, app, make, db):
    """state, the PKCE verifier and the nonce travel in the signed session cookie."""
    make.employee(personnel_number="4711")
    callback = sso.login(start(client), "erika")
    other_node = create_app(TestConfig)
    other_node.test_client_class = IsolatedClient
    other_node.config.update({k: v for k, v in app.config.items() if k.startswith("OIDC_")})
    try:
        browser = other_node.test_client()
        cookie = client.get_cookie("session", domain="localhost")
        assert cookie is not None
        browser.set_cookie("session", cookie.value, domain="localhost")
        with other_node.app_context():
            response = back_to_app(browser, callback)
            assert response.status_code == 302 and response.headers["Location"] == "/"
            assert "Hallo" in browser.get("/").get_data(as_text=True)
    finally:
        with other_node.app_context():
            _db.session.remove()
            _db.engine.dispose()
    assert db.session.query(UserIdentity).count() == 1

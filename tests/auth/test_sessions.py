"""Sessions and remember cookies end on the server: a copied cookie stops working after the
login's logout, a new password, a role change, deactivation, and after its lifetime."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from app.auth import services
from app.core.roles import Role
from app.core.types import utcnow
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD

REMEMBER = "remember_token"
SESSION = "session"


@pytest.fixture
def erika(make):
    return make.user("erika@stadt.example")


@pytest.fixture
def logged_in(client, login, erika):
    """Erika logged in with "stay logged in" ticked."""
    assert login("erika@stadt.example", remember="y").status_code == 302
    assert client.get_cookie(REMEMBER) is not None
    return client


class Copy:
    """A copy of a browser's cookie (taken now, without expiry), to be tried in new browsers."""

    def __init__(self, app, client, name: str) -> None:
        self.app, self.name, self.value = app, name, client.get_cookie(name).value

    def logs_in(self) -> bool:
        """Whether a new browser holding only the copy is logged in (twice in a row)."""
        browser = self.app.test_client()
        browser.set_cookie(self.name, self.value)
        return logged_in_as_erika(browser) and logged_in_as_erika(browser)


def copied(app, client, name: str) -> Copy:
    return Copy(app, client, name)


def logged_in_as_erika(client) -> bool:
    response = client.get("/auth/password")
    return response.status_code == 200


@pytest.mark.parametrize("cookie", [REMEMBER, SESSION])
def test_a_copied_cookie_works_until_logout(app, logged_in, cookie):
    thief = copied(app, logged_in, cookie)
    assert thief.logs_in()
    logged_in.post("/auth/logout", data={"csrf_token": csrf_token(logged_in, "/")})
    assert not thief.logs_in()
    assert not logged_in_as_erika(logged_in)


@pytest.mark.parametrize("cookie", [REMEMBER, SESSION])
def test_a_new_password_ends_every_other_session_and_keeps_this_one(app, logged_in, cookie):
    thief = copied(app, logged_in, cookie)
    assert thief.logs_in()
    form = {
        "csrf_token": csrf_token(logged_in, "/auth/password"),
        "current_password": DEFAULT_PASSWORD,
        "new_password": "neues-passwort-123",
        "confirm_password": "neues-passwort-123",
    }
    assert logged_in.post("/auth/password", data=form).status_code == 302
    assert not thief.logs_in()
    assert logged_in_as_erika(logged_in)
    # This browser got a fresh remember cookie too: alone it still logs in.
    assert copied(app, logged_in, REMEMBER).logs_in()


def test_a_password_set_from_a_reset_link_ends_every_session(app, db, logged_in, erika):
    thief = copied(app, logged_in, REMEMBER)
    services.password_changed(db.session, erika)
    db.session.commit()
    assert not thief.logs_in()
    assert not logged_in_as_erika(logged_in)


@pytest.mark.parametrize("change", ["role", "deactivation"])
def test_a_role_change_or_deactivation_ends_every_session(app, db, logged_in, erika, change):
    thief = copied(app, logged_in, REMEMBER)
    assert thief.logs_in()
    services.update_user(
        db.session,
        erika,
        roles=[Role.EMPLOYEE] if change == "deactivation" else [Role.EMPLOYEE, Role.HR],
        employee=erika.employee,
        headed_departments=[],
        active=change != "deactivation",
    )
    db.session.commit()
    assert not thief.logs_in()
    assert not logged_in_as_erika(logged_in)
    if change == "role":  # she logs in again and has the new role
        fresh = app.test_client()
        token = csrf_token(fresh, "/auth/login")
        data = {"email": "erika@stadt.example", "password": DEFAULT_PASSWORD, "csrf_token": token}
        assert fresh.post("/auth/login", data=data).status_code == 302
        assert logged_in_as_erika(fresh)


def test_an_unchanged_user_saved_by_an_admin_keeps_her_sessions(app, db, logged_in, erika):
    services.update_user(
        db.session,
        erika,
        roles=[Role.EMPLOYEE],
        employee=erika.employee,
        headed_departments=[],
        active=True,
    )
    db.session.commit()
    assert logged_in_as_erika(logged_in)


def test_a_copied_remember_cookie_ends_with_its_lifetime_on_the_server(app, logged_in):
    # (A session cookie's signature ages out after PERMANENT_SESSION_LIFETIME, in Flask.)
    lifetime = app.config["REMEMBER_COOKIE_DURATION"]
    thief = copied(app, logged_in, REMEMBER)
    with time_machine.travel(utcnow() + lifetime - timedelta(hours=1), tick=False):
        assert copied(app, logged_in, REMEMBER).logs_in()
    with time_machine.travel(utcnow() + lifetime + timedelta(minutes=1), tick=False):
        assert not thief.logs_in()


def test_a_remember_cookie_keeps_a_new_browser_logged_in_beyond_its_first_request(app, logged_in):
    # With session_protection="strong", Flask-Login stores no session identifier when it
    # logs in from the remember cookie, so the next request failed the protection and
    # deleted the cookie: "stay logged in" lasted one page.
    browser = app.test_client()
    browser.set_cookie(REMEMBER, logged_in.get_cookie(REMEMBER).value)
    for _ in range(3):
        assert logged_in_as_erika(browser)
    assert browser.get_cookie(REMEMBER) is not None


def test_a_cookie_from_before_session_tokens_or_tampered_logs_nobody_in(app, erika):
    from flask_login.utils import encode_cookie

    with app.test_request_context():
        for value in (
            str(erika.id),
            f"{erika.id}:{erika.session_token}:99999999999999999999",
            f"99999999999999999999:{erika.session_token}:1",
            f"{erika.id}:wrong:{int(utcnow().timestamp())}",
        ):
            other = app.test_client()
            other.set_cookie(REMEMBER, encode_cookie(value))
            assert not logged_in_as_erika(other), value

"""'Forgot password?': a single-use link by e-mail that lets a person set a new password."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.core.models import MessageKind, OutboxMessage
from app.core.types import utcnow
from app.notifications import delivery
from app.notifications.messages import build_message
from tests.conftest import csrf_token
from tests.courses.concurrent import post_at_once, tabs_of
from tests.factories import DEFAULT_PASSWORD

NEW_PASSWORD = "ein-ganz-neues-passwort"


def ask_for_link(client, email: str):
    token = csrf_token(client, "/auth/password/forgot")
    return client.post("/auth/password/forgot", data={"email": email, "csrf_token": token})


def can_log_in(app, email: str, password: str = DEFAULT_PASSWORD) -> bool:
    """Whether the login form takes this password, tried in a browser of its own."""
    browser = app.test_client()
    token = csrf_token(browser, "/auth/login")
    data = {"email": email, "password": password, "csrf_token": token}
    return browser.post("/auth/login", data=data).status_code == 302


def answer(page, email: str) -> str:
    """The page with the address entered and the (time-stamped) CSRF token taken out."""
    text = page.get_data(as_text=True).replace(email, "…")
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', 'name="csrf_token"', text)


def reset_mails(db):
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.PASSWORD_RESET.value)
    ).all()
    return [build_message(db.session, row, delivery.mail_settings()) for row in rows]


def link_path(mail) -> str:
    text = mail.get_body(("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(/auth/password/reset/[A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    token = csrf_token(client, path)
    data = {"new_password": password, "confirm_password": confirm or password, "csrf_token": token}
    return client.post(path, data=data)


def test_the_login_page_offers_it(client):
    page = client.get("/auth/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Passwort vergessen?" in page
    assert 'href="/auth/password/forgot"' in page


def test_known_and_unknown_address_get_the_same_answer_and_one_mail(client, db, staff_user):
    known = ask_for_link(client, "  Erika@Stadt.example ")
    unknown = ask_for_link(client, "niemand@stadt.example")

    assert known.status_code == unknown.status_code == 200
    assert answer(known, "Erika@Stadt.example") == answer(unknown, "niemand@stadt.example")
    mails = reset_mails(db)
    assert len(mails) == 1
    assert mails[0]["To"].addresses[0].addr_spec == "erika@stadt.example"
    assert mails[0]["Subject"] == "Neues Passwort festlegen"
    assert "60 Minuten" in mails[0].get_body(("plain",)).get_content()
    assert client.get(link_path(mails[0])).status_code == 200


def test_the_link_sets_the_password_once(app, client, db, staff_user):
    ask_for_link(client, staff_user.email)
    path = link_path(reset_mails(db)[0])

    done = set_password(client, path)
    assert done.status_code == 302 and done.location.endswith("/auth/login")
    assert not can_log_in(app, staff_user.email)  # the old password no longer works
    assert can_log_in(app, staff_user.email, NEW_PASSWORD)

    again = client.get(path, headers={"Accept-Language": "de"})
    assert again.status_code == 410
    page = again.get_data(as_text=True)
    assert "bereits verwendet" in page and 'href="/auth/password/forgot"' in page
    assert set_password_refused(client, path, "noch-ein-anderes-passwort") == 410
    assert not can_log_in(app, staff_user.email, "noch-ein-anderes-passwort")


def set_password_refused(client, path: str, password: str) -> int:
    # The form is gone once the link is used; post as a second tab still open would.
    token = csrf_token(client, "/auth/password/forgot")
    data = {"new_password": password, "confirm_password": password, "csrf_token": token}
    return client.post(path, data=data).status_code


def test_a_new_password_spends_the_older_links_too(app, client, db, staff_user):
    ask_for_link(client, staff_user.email)
    ask_for_link(client, staff_user.email)
    first, second = (link_path(mail) for mail in reset_mails(db))

    assert set_password(client, second).status_code == 302
    assert client.get(first).status_code == 410


def test_an_expired_link_is_refused(app, client, db, staff_user):
    ask_for_link(client, staff_user.email)
    path = link_path(reset_mails(db)[0])

    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=False):
        page = client.get(path, headers={"Accept-Language": "de"})
        assert page.status_code == 410
        assert "abgelaufen" in page.get_data(as_text=True)
        assert set_password_refused(client, path, NEW_PASSWORD) == 410
    assert can_log_in(app, staff_user.email)  # the password is unchanged


def test_a_tampered_link_is_refused(app, client, db, staff_user):
    ask_for_link(client, staff_user.email)
    path = link_path(reset_mails(db)[0])
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")

    page = client.get(tampered, headers={"Accept-Language": "de"})
    assert page.status_code == 404
    assert "ungültig" in page.get_data(as_text=True)
    assert set_password_refused(client, tampered, NEW_PASSWORD) == 404
    assert client.get("/auth/password/reset/x").status_code == 404
    assert can_log_in(app, staff_user.email)


def test_a_short_password_is_refused_and_the_link_stays_usable(app, client, db, staff_user):
    ask_for_link(client, staff_user.email)
    path = link_path(reset_mails(db)[0])

    short = set_password(client, path, "kurz")
    assert short.status_code == 200
    assert "10" in short.get_data(as_text=True)
    differ = set_password(client, path, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert differ.status_code == 200
    assert can_log_in(app, staff_user.email)
    assert set_password(client, path).status_code == 302


def test_locked_logins_leavers_and_external_logins_get_no_mail(client, db, make):
    locked = make.user("gesperrt@stadt.example")
    locked.active = False
    leaver = make.user("weg@stadt.example")
    assert leaver.employee is not None
    leaver.employee.active = False
    directory_only = make.user("verzeichnis@stadt.example")
    directory_only.password_hash = None
    db.session.commit()

    for email in ("gesperrt@stadt.example", "weg@stadt.example", "verzeichnis@stadt.example"):
        assert ask_for_link(client, email).status_code == 200
    assert reset_mails(db) == []


def test_a_link_of_a_login_locked_afterwards_does_nothing(app, client, db, staff_user):
    ask_for_link(client, staff_user.email)
    path = link_path(reset_mails(db)[0])
    assert staff_user.employee is not None
    staff_user.employee.active = False  # left the city after asking
    db.session.commit()

    assert client.get(path).status_code == 404
    assert set_password_refused(client, path, NEW_PASSWORD) == 404
    staff_user.employee.active = True
    db.session.commit()
    assert can_log_in(app, staff_user.email)


def test_requests_are_rate_limited_per_address_entered(client, db, staff_user):
    for _ in range(3):
        assert ask_for_link(client, staff_user.email).status_code == 200
    assert ask_for_link(client, staff_user.email).status_code == 429
    assert len(reset_mails(db)) == 3
    # Someone else behind the same address of the town hall still gets through.
    assert ask_for_link(client, "kollegin@stadt.example").status_code == 200


def test_the_same_link_sent_twice_at_once_is_used_once(app, client, db, staff_user):
    """A double click, or two tabs, on "set password": one sets it, the other finds the link
    used (the conditional UPDATE), on both backends."""
    ask_for_link(client, staff_user.email)
    path = link_path(reset_mails(db)[0])
    token = csrf_token(client, path)
    data = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "csrf_token": token}
    responses = post_at_once(app, tabs_of(client, app, 2), path, data)
    assert sorted(r.status_code for r in responses) == [302, 410]
    assert can_log_in(app, staff_user.email, NEW_PASSWORD)

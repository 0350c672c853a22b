"""Invitations: HR (or a script) invites staff with an address and no login; the person sets
their own password from the link, is logged in, and their login is linked to their record."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.auth.models import User
from app.core.models import MessageKind, OutboxMessage
from app.core.roles import Role
from app.core.types import utcnow
from app.notifications import delivery
from app.notifications.messages import build_message
from tests.conftest import csrf_token

PASSWORD = "mein-eigenes-passwort"


def invitation_mails(db):
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == MessageKind.INVITATION.value)
        .order_by(OutboxMessage.id)
    ).all()
    return [build_message(db.session, row, delivery.mail_settings()) for row in rows]


def recipients(db) -> list[str]:
    return sorted(mail["To"].addresses[0].addr_spec for mail in invitation_mails(db))


def link_path(mail) -> str:
    text = mail.get_body(("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(/auth/invitation/[A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


def invite(client, *, personnel_number="", department="", confirm=True):
    token = csrf_token(client, "/auth/invitations")
    data = {"personnel_number": personnel_number, "department": department, "csrf_token": token}
    if confirm:
        data["confirm"] = "y"
    return client.post("/auth/invitations", data=data, headers={"Accept-Language": "de"})


def accept(client, path: str, password: str = PASSWORD):
    token = csrf_token(client, path)
    data = {"new_password": password, "confirm_password": password, "csrf_token": token}
    return client.post(path, data=data)


def cli(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["invite-staff", *args])
    assert result.exit_code == 0, result.output
    return result.output


def organisation(make):
    """Kinderbetreuung with a Kita below it, and an office beside it."""
    care = make.department("KB", name="Kinderbetreuung")
    kita = make.department("KB-1", name="Kita Buchenbusch", parent=care)
    office = make.department("BA", name="Bürgeramt")
    return care, kita, office


def test_hr_invites_one_person_who_sets_a_password_and_is_logged_in(
    app, client, db, make, hr, login
):
    _care, kita, _office = organisation(make)
    person = make.employee(kita, first_name="Aylin", email="Aylin.Demir@stadt.example")
    make.employee(kita, email="nachbarin@stadt.example")
    login(hr.email)

    page = invite(client, personnel_number=person.personnel_number)
    assert "1 Person eingeladen." in page.get_data(as_text=True)
    mails = invitation_mails(db)
    assert len(mails) == 1
    assert mails[0]["To"].addresses[0].addr_spec == "Aylin.Demir@stadt.example"
    assert mails[0]["Subject"] == "Ihr Zugang zum Schulungsportal"
    assert "14 Tage" in mails[0].get_body(("plain",)).get_content()

    person_browser = app.test_client()
    path = link_path(mails[0])
    form = person_browser.get(path, headers={"Accept-Language": "de"})
    assert "Aylin.Demir@stadt.example" in form.get_data(as_text=True)
    done = accept(person_browser, path)
    assert done.status_code == 302
    home = person_browser.get("/", headers={"Accept-Language": "de"}, follow_redirects=True)
    assert "Willkommen! Ihr Passwort ist festgelegt." in home.get_data(as_text=True)

    user = db.session.scalar(select(User).where(User.email == "aylin.demir@stadt.example"))
    assert user is not None and user.employee_id == person.id
    assert user.roles == {Role.EMPLOYEE}
    assert user.check_password(PASSWORD)
    assert accept(app.test_client(), path, "noch-ein-passwort-x").status_code == 410


def test_a_subtree_and_everyone(client, db, make, hr, login):
    care, kita, office = organisation(make)
    make.employee(care, email="kb@stadt.example")
    make.employee(kita, email="kita@stadt.example")
    make.employee(office, email="ba@stadt.example")
    make.employee(office, email=None)  # no address: nothing to send to
    login(hr.email)

    page = invite(client, department="KB")
    assert "2 Personen eingeladen." in page.get_data(as_text=True)
    assert recipients(db) == ["kb@stadt.example", "kita@stadt.example"]

    page = invite(client)
    text = page.get_data(as_text=True)
    assert "1 Person eingeladen." in text
    assert "Bereits eingeladen (ungenutzt, noch gültig): 2" in text
    assert recipients(db) == ["ba@stadt.example", "kb@stadt.example", "kita@stadt.example"]


def test_counting_first_sends_nothing(client, db, make, hr, login):
    _care, kita, _office = organisation(make)
    make.employee(kita, email="kita@stadt.example")
    login(hr.email)

    page = invite(client, confirm=False)
    assert "1 Person würde eingeladen." in page.get_data(as_text=True)
    assert invitation_mails(db) == []


def test_unknown_codes_are_reported_and_nothing_is_sent(client, db, make, hr, login):
    organisation(make)
    login(hr.email)

    assert "Keine Organisationseinheit hat dieses Kürzel." in invite(
        client, department="XX"
    ).get_data(as_text=True)
    assert "Diese Personalnummer ist keiner beschäftigten Person zugeordnet." in invite(
        client, personnel_number="P999"
    ).get_data(as_text=True)
    assert invitation_mails(db) == []


def test_people_with_a_login_leavers_and_shared_mailboxes_are_not_invited(
    app, client, db, make, hr, login
):
    _care, kita, _office = organisation(make)
    make.user("hat-zugang@stadt.example", employee=make.employee(kita, email="x@stadt.example"))
    make.employee(kita, email="Hat-Zugang@stadt.example")  # a login with this address exists
    make.employee(kita, email="weg@stadt.example", active=False)
    make.employee(kita, email="team-kita@stadt.example")
    make.employee(kita, email="Team-Kita@stadt.example")
    make.employee(kita, email="neu@stadt.example")

    output = cli(app)
    assert "Invited: 1" in output
    assert "Have a login: 2" in output
    assert "Shared addresses (nobody invited): 1\n  team-kita@stadt.example" in output
    assert recipients(db) == ["neu@stadt.example"]
    login(hr.email)
    page = invite(client).get_data(as_text=True)
    assert "team-kita@stadt.example" in page


def test_the_command_counts_with_dry_run_and_is_idempotent(app, db, make):
    care, kita, office = organisation(make)
    make.employee(kita, email="kita@stadt.example")
    make.employee(office, email="ba@stadt.example")

    assert "Would invite: 1" in cli(app, "--department", "KB", "--dry-run")
    assert invitation_mails(db) == []
    assert "Invited: 1" in cli(app, "--department", "KB")
    output = cli(app)
    assert "Invited: 1" in output and "Already invited (unused, still valid): 1" in output
    assert "Invited: 0" in cli(app)  # a second run sends nothing
    assert recipients(db) == ["ba@stadt.example", "kita@stadt.example"]
    result = app.test_cli_runner().invoke(args=["invite-staff", "--department", "XX"])
    assert result.exit_code != 0 and "no department has the code 'XX'" in result.output


def test_an_expired_invitation_is_refused_and_a_new_one_is_sent(app, db, make):
    _care, kita, _office = organisation(make)
    make.employee(kita, email="kita@stadt.example")
    cli(app)
    path = link_path(invitation_mails(db)[0])

    with time_machine.travel(utcnow() + timedelta(days=15), tick=False):
        browser = app.test_client()
        page = browser.get(path, headers={"Accept-Language": "de"})
        assert page.status_code == 410
        assert "abgelaufen" in page.get_data(as_text=True)
        assert "Invited: 1" in cli(app)
    assert len(invitation_mails(db)) == 2


def test_a_tampered_invitation_and_a_leaver_are_refused(app, db, make):
    _care, kita, _office = organisation(make)
    person = make.employee(kita, email="kita@stadt.example")
    cli(app)
    path = link_path(invitation_mails(db)[0])
    browser = app.test_client()

    assert browser.get(path[:-3] + "abc").status_code == 404
    person.active = False  # left after the invitation
    db.session.commit()
    assert browser.get(path).status_code == 404
    assert db.session.scalar(select(User)) is None


def test_only_hr_may_invite(client, make, staff_user, login):
    login(staff_user.email)
    assert client.get("/auth/invitations").status_code == 403


def test_the_page_invites_a_bounded_number_per_press_and_continues(
    app, client, db, make, hr, login, monkeypatch
):
    _care, kita, _office = organisation(make)
    for n in range(3):
        make.employee(kita, email=f"person{n}@stadt.example")
    monkeypatch.setitem(app.config, "INVITATIONS_PER_REQUEST", 2)
    login(hr.email)

    first = invite(client).get_data(as_text=True)
    assert "2 Personen eingeladen." in first
    assert "1 weitere Person fehlt noch" in first
    second = invite(client).get_data(as_text=True)
    assert "1 Person eingeladen." in second and "fehlt noch" not in second
    assert len(recipients(db)) == 3

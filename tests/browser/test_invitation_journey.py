"""HR invites a person; the person opens the e-mail's link, sets a password and logs in."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.core.models import MessageKind, OutboxMessage
from app.core.roles import Role
from app.notifications import delivery
from app.notifications.messages import build_message
from tests.factories import DEFAULT_PASSWORD

PASSWORD = "mein-eigenes-passwort"


def invitation_link(db) -> str:
    """The link in the invitation mail, as the person reads it."""
    db.session.commit()
    row = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.INVITATION.value)
    ).one()
    mail = build_message(db.session, row, delivery.mail_settings())
    db.session.commit()  # release SQLite's lock for the served app
    assert mail["To"].addresses[0].addr_spec == "aylin.demir@stadt.example"
    text = mail.get_body(("plain",)).get_content()
    match = re.search(r"https?://\S+(/auth/invitation/\S+)", text)
    assert match, text
    return match.group(1)


def test_hr_invites_a_person_who_sets_a_password_and_logs_in(
    page, log_in, browser, live_server, db, make
):
    office = make.department("BA", name="Bürgeramt")
    make.employee(office, first_name="Aylin", last_name="Demir", email="aylin.demir@stadt.example")
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)

    log_in("hr@stadt.example", DEFAULT_PASSWORD)
    page.goto("/staff/employees")
    page.get_by_role("row", name=re.compile("Demir")).get_by_role("link", name="Einladen").click()
    page.get_by_label("Einladungen jetzt senden").check()
    page.get_by_role("button", name="Einladen").click()
    expect(page.get_by_role("status").last).to_contain_text("1 Person eingeladen.")
    path = invitation_link(db)

    person = browser.new_context(base_url=live_server).new_page()
    person.goto(path)
    expect(person.get_by_role("heading", level=1)).to_have_text("Ihr Passwort festlegen")
    person.get_by_label("Neues Passwort", exact=True).fill(PASSWORD)
    person.get_by_label("Neues Passwort wiederholen").fill(PASSWORD)
    person.get_by_role("button", name="Passwort festlegen und anmelden").click()
    expect(person.get_by_role("status").first).to_contain_text("Willkommen!")

    later = browser.new_context(base_url=live_server).new_page()
    later.goto("/auth/login")
    later.get_by_label("E-Mail-Adresse").fill("aylin.demir@stadt.example")
    later.get_by_label("Passwort").fill(PASSWORD)
    later.get_by_role("button", name="Anmelden").click()
    expect(later.get_by_role("heading", level=1)).not_to_have_text("Anmelden")
    assert "/auth/login" not in later.url
    person.goto(path)  # the link works once
    expect(person.get_by_role("heading", level=1)).to_have_text("Dieser Link funktioniert nicht")

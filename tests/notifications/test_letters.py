"""Staff without e-mail get paper: invitation letters per date or department (only the people
without an address), and the messages that could not be mailed, listed for their head to print
and hand out."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.core.models import OutboxMessage
from app.core.roles import Role
from app.courses.services import enrolment as service
from app.notifications import delivery
from app.notifications.models import HandedOutLetter
from tests.conftest import csrf_token


def pdf_pages(content: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def city(make, hr):
    """Betriebshof (head: leitung@) > Straßenreinigung; a Kita elsewhere; people with and
    without e-mail."""
    yard = make.department("BH", name="Betriebshof")
    sweepers = make.department("BH-S", name="Straßenreinigung", parent=yard)
    kita = make.department("KITA", name="Kita Sonnenblume")
    head = make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(yard,))
    return {
        "yard": yard,
        "kita": kita,
        "head": head,
        "no_mail": make.employee(sweepers, first_name="Jürgen", last_name="Özdemir", email=None),
        "no_mail_2": make.employee(yard, first_name="Dragan", last_name="Kovačević", email=""),
        "with_mail": make.employee(yard, first_name="Anna", last_name="Mailbach"),
        "kita_no_mail": make.employee(kita, first_name="Grete", last_name="Weiß", email=None),
    }


def _book(db, hr, course_session, *people):
    for person in people:
        service.enrol(db.session, employee=person, course_session=course_session, actor=hr)
    db.session.commit()


def test_hr_prints_one_invitation_per_person_without_email_on_a_date(
    client, login, make, hr, db, city
):
    course_session = make.course_session(
        make.course(title="Interkulturelle Kompetenz im Bürgerservice"),
        capacity=3,
        location="Rathaus Neu-Isenburg, Hugenottenallee 53",
        notes="Raum 2.14, zweiter Stock; Bus 653 bis Rathaus",
        trainer="Ayşe Yılmaz",
    )
    waiting = make.employee(city["kita"], last_name="Wartend", email=None)
    _book(db, hr, course_session, city["no_mail"], city["with_mail"], city["kita_no_mail"], waiting)
    login("hr@stadt.example")

    response = client.get(f"/notifications/invitations/sessions/{course_session.id}.pdf")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.data)
    assert len(pages) == 2  # Özdemir and Weiß; not Mailbach (e-mail), not the waiting one
    text = "\n".join(pages)
    assert "Jürgen Özdemir" in text and "Grete Weiß" in text
    assert "Mailbach" not in text and "Wartend" not in text
    first = next(page for page in pages if "Özdemir" in page)
    assert "Stadt Neu-Isenburg" in first and "Straßenreinigung" in first
    assert "Einladung zur Schulung „Interkulturelle Kompetenz im Bürgerservice“" in first
    assert "Hugenottenallee 53" in first and "Raum 2.14" in first and "Bus 653" in first
    assert "Bitte mitbringen" in first and "Fragen?" in first and "Ayşe Yılmaz" in first
    assert "Uhrzeit" in first


def test_a_head_prints_the_invitations_of_a_date_for_own_staff_only(
    client, login, make, hr, db, city
):
    course_session = make.course_session(capacity=5)
    _book(db, hr, course_session, city["no_mail"], city["kita_no_mail"])
    login("leitung@stadt.example")

    text = "\n".join(
        pdf_pages(client.get(f"/notifications/invitations/sessions/{course_session.id}.pdf").data)
    )

    assert "Özdemir" in text and "Weiß" not in text


def test_invitations_per_department_cover_its_subtree_and_upcoming_dates(
    client, login, make, hr, db, city, app, monkeypatch
):
    monkeypatch.setitem(app.config, "LETTER_CONTACT", "Stabsstelle Integration, Tel. 06102 241-0")
    monkeypatch.setitem(app.config, "LETTER_WHAT_TO_BRING", "Dienstausweis und Lesebrille")
    first = make.course_session(make.course(title="Kultursensible Beratung"), capacity=5)
    second = make.course_session(
        make.course(title="Vernetzung mit Vereinen"), starts_in=timedelta(days=60), capacity=5
    )
    called_off = make.course_session(make.course(title="Abgesagt"), capacity=5)
    _book(db, hr, first, city["no_mail"], city["with_mail"], city["kita_no_mail"])
    _book(db, hr, second, city["no_mail"], city["no_mail_2"])
    _book(db, hr, called_off, city["no_mail_2"])
    from app.courses.services import catalogue

    catalogue.cancel_session(db.session, called_off, actor=hr, reason="krank")
    db.session.commit()
    login("leitung@stadt.example")

    response = client.get("/notifications/invitations.pdf?department=BH")

    assert response.status_code == 200
    pages = pdf_pages(response.data)
    assert len(pages) == 3  # Özdemir twice, Kovačević once; no cancelled date, no Kita
    text = "\n".join(pages)
    assert text.count("Jürgen Özdemir") >= 2 and "Dragan Kovačević" in text
    assert "Kultursensible Beratung" in text and "Vernetzung mit Vereinen" in text
    assert "Abgesagt" not in text and "Weiß" not in text and "Mailbach" not in text
    assert "Stabsstelle Integration, Tel. 06102 241-0" in text
    assert "Dienstausweis und Lesebrille" in text


def test_access_to_the_letters(client, login, make, hr, db, city):
    course_session = make.course_session()
    make.user("erika@stadt.example")
    paths = (
        f"/notifications/invitations/sessions/{course_session.id}.pdf",
        "/notifications/invitations.pdf?department=BH",
        "/notifications/letters",
        "/notifications/letters.pdf",
    )
    login("erika@stadt.example")
    assert [client.get(p).status_code for p in paths] == [403] * 4

    client.delete_cookie("session")
    login("leitung@stadt.example")
    assert client.get("/notifications/invitations.pdf?department=KITA").status_code == 403
    assert client.get("/notifications/invitations.pdf?department=BH-S").status_code == 200
    assert client.get("/notifications/invitations.pdf?department=NOPE").status_code == 404

    client.delete_cookie("session")
    login("hr@stadt.example")
    assert [client.get(p).status_code for p in paths] == [200] * 4
    assert client.get("/notifications/invitations.pdf?department=KITA").status_code == 200


def test_messages_not_mailed_are_listed_for_the_head_of_the_person_only(
    client, login, make, hr, db, city, smtp
):
    course_session = make.course_session(make.course(title="Elternarbeit"), capacity=5)
    _book(db, hr, course_session, city["no_mail"], city["with_mail"], city["kita_no_mail"])
    report = delivery.deliver_pending(db.session)
    assert (report.sent, report.failed) == (1, 2)

    login("leitung@stadt.example")
    home = client.get("/").get_data(as_text=True)
    assert "Briefe zum Aushändigen" in home
    assert "1 Nachricht konnte nicht per E-Mail versandt werden" in home
    page = client.get("/notifications/letters").get_data(as_text=True)
    assert "Özdemir, Jürgen" in page and "Anmeldung bestätigt" in page
    assert "Weiß" not in page and "Mailbach" not in page

    letters = pdf_pages(client.get("/notifications/letters.pdf").data)
    assert len(letters) == 1
    assert "Jürgen Özdemir" in letters[0] and "Anmeldung bestätigt: Elternarbeit" in letters[0]

    client.delete_cookie("session")
    login("hr@stadt.example")
    page = client.get("/notifications/letters").get_data(as_text=True)
    assert "Özdemir, Jürgen" in page and "Weiß, Grete" in page


def test_marking_letters_handed_out_takes_them_off_the_list_once(
    client, login, make, hr, db, city, smtp
):
    course_session = make.course_session(capacity=5)
    _book(db, hr, course_session, city["no_mail"], city["kita_no_mail"])
    delivery.deliver_pending(db.session)
    ours, theirs = (
        db.session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.payload["employee_id"].as_integer() == person.id
            )
        )
        for person in (city["no_mail"], city["kita_no_mail"])
    )
    login("leitung@stadt.example")
    token = csrf_token(client, "/notifications/letters")

    for _ in range(2):  # a double click records it once
        response = client.post(
            "/notifications/letters/handed-out",
            data={"csrf_token": token, "message_id": [str(ours), str(theirs)]},
        )
        assert response.status_code == 302

    assert db.session.scalars(select(HandedOutLetter.message_id)).all() == [ours]
    assert db.session.scalar(select(HandedOutLetter.handed_out_by_user_id)) == city["head"].id
    page = client.get("/notifications/letters").get_data(as_text=True)
    assert "Keine Briefe zum Aushändigen." in page
    client.delete_cookie("session")
    login("hr@stadt.example")
    page = client.get("/notifications/letters").get_data(as_text=True)
    assert "Weiß, Grete" in page and "Özdemir" not in page  # the Kita's letter still waits
    assert db.session.scalar(select(func.count(HandedOutLetter.id))) == 1


def test_many_letters_one_page_each_with_everyone_in_it(client, login, make, hr, db, city):
    dates = [make.course_session(capacity=20, starts_in=timedelta(days=20 + n)) for n in range(3)]
    people = [
        make.employee(city["yard"], first_name="Ümit", last_name=f"Yılmaz{n:02d}", email=None)
        for n in range(60)
    ]
    for n, person in enumerate(people):
        service.enrol(db.session, employee=person, course_session=dates[n % 3], actor=hr)
    db.session.commit()
    login("leitung@stadt.example")

    pages = pdf_pages(client.get("/notifications/invitations.pdf?department=BH").data)

    assert len(pages) == 60
    assert [sum(f"Ümit Yılmaz{n:02d}" in page for page in pages) for n in range(60)] == [1] * 60
    assert all("Mit freundlichen Grüßen" in page for page in pages)  # no letter runs over


def test_an_overdue_reminder_without_address_becomes_a_letter_for_the_head(
    client, login, make, hr, db, city, smtp
):
    from datetime import date

    from app.notifications.scans import queue_requirement_reminders
    from app.requirements.models import AudienceKind, AudienceRule, Requirement

    course = make.course("IKK", title="Interkulturelle Kompetenz")
    rule = Requirement(name="Basisschulung", first_due_date=date(2026, 5, 1), courses=[course])
    rule.audience = [AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=city["yard"])]
    db.session.add(rule)
    db.session.commit()
    queue_requirement_reminders(
        db.session,
        today=date(2026, 6, 15),
        due_soon_days=30,
        repeat_days=14,
        escalate_to_head_days=300,
        escalate_to_hr_days=600,
    )
    db.session.commit()
    delivery.deliver_pending(db.session)
    login("leitung@stadt.example")

    page = client.get("/notifications/letters").get_data(as_text=True)
    assert "Özdemir, Jürgen" in page and "Kovačević, Dragan" in page
    assert "Mailbach" not in page  # mailed
    assert "Pflichtschulung überfällig" in page
    letters = pdf_pages(client.get("/notifications/letters.pdf").data)
    assert len(letters) == 2
    assert all("Basisschulung" in letter for letter in letters)

"""Meine Daten: each person sees and downloads all data held about them, and nothing about
anyone else; HR can do the same for a person, and that is recorded."""

from __future__ import annotations

import io
import json
from datetime import date
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.auth.models import UserIdentity
from app.core.audit import AccessEvent, AccessEventEmployee, AuditEntry, record_access
from app.core.models import OutboxMessage, OutboxStatus
from app.core.roles import Role
from app.core.types import utcnow
from app.courses.models import CalendarFeed, Completion, Enrolment, EnrolmentEvent
from app.privacy import my_data, retention
from app.requirements.models import AudienceRule, Exemption, Requirement


def _person_with_data(make, db, *, first, last, number, requirement, course, hr):
    person = make.employee(
        first_name=first,
        last_name=last,
        personnel_number=number,
        email=f"{first.lower()}@stadt.example",
        position="Sachbearbeitung",
    )
    login = make.user(f"{first.lower()}.login@stadt.example", employee=person)
    session = make.course_session(course)
    enrolment = Enrolment(session_id=session.id, employee_id=person.id, status="booked")
    db.session.add(enrolment)
    db.session.flush()
    db.session.add_all(
        [
            EnrolmentEvent(enrolment_id=enrolment.id, action="booked", actor_user_id=login.id),
            EnrolmentEvent(
                enrolment_id=enrolment.id, action="cancelled", actor_user_id=hr.id, note="Dienst"
            ),
            Completion(
                employee=person,
                course=course,
                completed_on=date(2025, 3, 1),
                valid_until=date(2028, 3, 1),
                certificate_ref=f"Z-{number}",
            ),
            Exemption(
                employee_id=person.id,
                requirement_id=requirement.id,
                reason="Elternzeit",
                starts_on=date(2026, 1, 1),
            ),
            UserIdentity(user_id=login.id, source="ldap", subject=f"cn={first},dc=stadt"),
            CalendarFeed(employee_id=person.id, nonce=f"nonce-{number}"),
            OutboxMessage(
                key=f"booked-{number}",
                kind="booked",
                payload={"employee_id": person.id},
                status=OutboxStatus.SENT.value,
                sent_at=utcnow(),
                recipient=person.email,
                subject="Ihre Anmeldung",
            ),
        ]
    )
    db.session.commit()
    return person, login


@pytest.fixture
def two(make, db, hr):
    course = make.course(title="Interkulturelle Kompetenz")
    requirement = Requirement(name="Grundkurs", first_due_date=date(2025, 1, 1))
    requirement.courses.append(course)
    requirement.audience.append(AudienceRule(kind="all"))
    db.session.add(requirement)
    db.session.commit()
    erika, erika_login = _person_with_data(
        make, db, first="Erika", last="Mustermann", number="P-ERIKA-1",
        requirement=requirement, course=course, hr=hr,
    )  # fmt: skip
    otto, otto_login = _person_with_data(
        make, db, first="Otto", last="Normalverbraucher", number="P-OTTO-2",
        requirement=requirement, course=course, hr=hr,
    )  # fmt: skip
    # HR looked at both at once (a people list), and at Erika alone.
    record_access(db.session, purpose="people_list", employee_ids=[erika.id, otto.id], actor=None)
    record_access(db.session, purpose="person", employee_ids=[erika.id], detail="Erika")
    db.session.commit()
    return SimpleNamespace(erika=erika, otto=otto, erika_login=erika_login, otto_login=otto_login)


def _identifying(person) -> list[str]:
    return [
        person.first_name,
        person.last_name,
        person.personnel_number,
        person.email,
        f"{person.first_name.lower()}.login@stadt.example",
        f"cn={person.first_name}",
    ]


def test_the_json_holds_every_section_and_nothing_about_another_person(client, login, two):
    login(two.erika_login.email)
    response = client.get("/privacy/my-data.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert list(data) == list(my_data.SECTIONS)
    assert data["person"]["personnel_number"] == "P-ERIKA-1"
    assert data["department"]["name"]
    assert data["logins"][0]["email"] == "erika.login@stadt.example"
    assert data["logins"][0]["roles"] == ["employee"]
    assert data["logins"][0]["external_logins"][0]["account_id"] == "cn=Erika,dc=stadt"
    history = data["enrolments"][0]["history"]
    assert [(step["action"], step["by"]) for step in history] == [
        ("booked", "self"),
        ("cancelled", "someone_else"),
    ]
    assert data["completions"][0]["certificate_ref"] == "Z-P-ERIKA-1"
    assert data["exemptions"][0]["reason"] == "Elternzeit"
    assert data["requirements"][0]["requirement"] == "Grundkurs"
    assert [m["subject"] for m in data["messages"]] == ["Ihre Anmeldung"]
    assert list(data["calendar_subscription"][0]) == ["created_at", "last_fetched_at"]
    assert sorted(event["purpose"] for event in data["access_log"]) == ["people_list", "person"]
    text = response.get_data(as_text=True)
    for value in _identifying(two.otto):
        assert value not in text, value


def test_the_pdf_is_readable_and_names_nobody_else(client, login, two):
    login(two.otto_login.email)
    response = client.get("/privacy/my-data.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Normalverbraucher" in text and "P-OTTO-2" in text and "Grundkurs" in text
    assert "Wer hat Ihre Daten angesehen" in text or "Who looked at your data" in text
    for value in _identifying(two.erika):
        assert value not in text, value


def test_the_page_summarises_the_data_and_is_not_cached(client, login, two):
    login(two.erika_login.email)
    response = client.get("/privacy/my-data")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "P-ERIKA-1" in html and "Elternzeit" in html and "Ihre Anmeldung" in html
    assert "Normalverbraucher" not in html


def test_a_login_without_an_employee_record_sees_that_nothing_is_held(client, login, make):
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    assert client.get("/privacy/my-data").status_code == 200
    assert client.get("/privacy/my-data.json").status_code == 404


def test_hr_downloads_a_persons_data_and_it_is_recorded(client, login, two, hr, db):
    login(hr.email)
    page = client.get(f"/privacy/people/{two.otto.id}")
    assert page.status_code == 200 and "P-OTTO-2" in page.get_data(as_text=True)
    response = client.get(f"/privacy/people/{two.otto.id}/data.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert json.loads(response.data)["person"]["personnel_number"] == "P-OTTO-2"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "data_export")).one()
    assert (entry.entity, entry.entity_id, entry.actor) == ("employee", str(two.otto.id), hr.email)
    purposes = db.session.scalars(
        select(AccessEvent.purpose)
        .join(AccessEventEmployee)
        .where(AccessEventEmployee.employee_id == two.otto.id, AccessEvent.viewer == hr.email)
    ).all()
    assert sorted(purposes) == ["data_export", "person_data"]


def test_only_hr_reaches_another_persons_data(client, login, two, make):
    login(two.erika_login.email)
    assert client.get(f"/privacy/people/{two.otto.id}").status_code == 403
    assert client.get(f"/privacy/people/{two.otto.id}/data.json").status_code == 403
    assert client.get("/privacy/people/99999999999/data.json").status_code == 404


def test_the_retention_page_shows_the_latest_reports_to_the_data_protection_officer(
    client, login, make, db
):
    make.user("dpo@stadt.example", roles=(Role.DATA_PROTECTION,), with_employee=False)
    retention.run(
        db.session,
        periods=retention.Periods.from_config(client.application.config),
        now=utcnow(),
        apply=False,
        source="nightly",
    )
    login("dpo@stadt.example")
    response = client.get("/privacy/retention")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "RETENTION_APPLY" in html and "nightly" in html


def test_hr_does_not_reach_the_retention_page(client, login, hr):
    login(hr.email)
    assert client.get("/privacy/retention").status_code == 403


def test_the_access_log_section_lists_viewer_when_and_what(db, two, hr):
    data = my_data.collect(db.session, two.erika, today=date.today(), due_soon_days=30)
    assert {event["viewer"] for event in data["access_log"]} == {"system"}
    assert any(event["detail"] == "Erika" for event in data["access_log"])
    assert all(event["at"] for event in data["access_log"])

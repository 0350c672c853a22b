"""What each kind of outbox message says: subject, recipient and calendar invite, per language."""

import secrets
from datetime import date, timedelta
from typing import NamedTuple

import pytest

from app.auth.models import LoginLink
from app.core.models import MessageKind, OutboxMessage
from app.core.roles import Role
from app.core.types import utcnow
from app.courses.services import enrolment
from app.extensions import db as _db
from app.notifications import delivery
from app.notifications.messages import UnknownMessage, build_message
from app.requirements.models import AudienceKind, AudienceRule, Requirement

SESSION = "Elternarbeit mit zugewanderten Familien"
REQUIREMENT = "Basis"


class Expected(NamedTuple):
    english: str
    german: str
    #: What the subject is about after the colon (None: the subject stands alone).
    about: str | None
    calendar_method: str | None
    #: Who gets it: the employee, the head of their area or HR.
    recipient: str


EXPECTED = {
    "booked": Expected("Booking confirmed", "Anmeldung bestätigt", SESSION, "REQUEST", "employee"),
    "waitlisted": Expected(
        "You are on the waiting list", "Sie stehen auf der Warteliste", SESSION, None, "employee"
    ),
    "promoted": Expected(
        "A seat became free: you are booked",
        "Ein Platz ist frei geworden: Sie sind angemeldet",
        SESSION,
        "REQUEST",
        "employee",
    ),
    "cancelled": Expected(
        "Booking cancelled", "Anmeldung storniert", SESSION, "CANCEL", "employee"
    ),
    "session_cancelled": Expected(
        "Date cancelled", "Termin abgesagt", SESSION, "CANCEL", "employee"
    ),
    "session_changed": Expected("Date changed", "Termin geändert", SESSION, "REQUEST", "employee"),
    "session_reminder": Expected("Reminder", "Erinnerung", SESSION, "REQUEST", "employee"),
    "requirement_due_soon": Expected(
        "Mandatory training due soon", "Pflichtschulung bald fällig", REQUIREMENT, None, "employee"
    ),
    "requirement_overdue": Expected(
        "Mandatory training overdue", "Pflichtschulung überfällig", REQUIREMENT, None, "employee"
    ),
    "escalation_head": Expected(
        "Overdue in your area", "Überfällig in Ihrem Bereich", REQUIREMENT, None, "head"
    ),
    "escalation_hr": Expected(
        "Overdue for a long time", "Seit Langem überfällig", REQUIREMENT, None, "hr"
    ),
    "head_digest": Expected(
        "Weekly overview of mandatory trainings",
        "Wochenübersicht Pflichtschulungen",
        None,
        None,
        "head",
    ),
    "invitation": Expected(
        "Your access to the training portal",
        "Ihr Zugang zum Schulungsportal",
        None,
        None,
        "employee",
    ),
    "password_reset": Expected(
        "Set a new password", "Neues Passwort festlegen", None, None, "head"
    ),
}


@pytest.fixture
def world(db, make, hr):
    """One person per language, booked on a date, overdue for a requirement; a head; HR."""
    care = make.department("KB", name="Kinderbetreuung")
    course = make.course("EZF", title=SESSION)
    course_session = make.course_session(course, location="Kita Buchenbusch")
    requirement = Requirement(name=REQUIREMENT, first_due_date=date(2026, 5, 1))
    requirement.courses = [course]
    requirement.audience = [AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=care)]
    db.session.add(requirement)
    people = {
        locale: make.employee(care, email=f"{locale}@stadt.example", locale=locale)
        for locale in ("de", "en")
    }
    enrolments = {
        locale: enrolment.enrol(
            db.session, employee=person, course_session=course_session, actor=hr
        )
        for locale, person in people.items()
    }
    db.session.commit()
    heads = {
        locale: make.user(
            f"leitung-{locale}@stadt.example",
            roles=(Role.EMPLOYEE, Role.HEAD),
            employee=make.employee(care, locale=locale),
            heads=(care,),
        )
        for locale in ("de", "en")
    }
    hr.locale = "de"
    db.session.commit()
    return {
        "session": course_session,
        "requirement": requirement,
        "people": people,
        "enrolments": enrolments,
        "heads": heads,
        "hr": hr,
    }


def outbox_row(world, kind: str, locale: str) -> OutboxMessage:
    """A row as its producer writes it, for the person (or head) speaking ``locale``."""
    person, head = world["people"][locale], world["heads"][locale]
    about_session = {
        "enrolment_id": world["enrolments"][locale].id,
        "employee_id": person.id,
        "session_id": world["session"].id,
        "days": 7,
    }
    about_requirement = {
        "employee_id": person.id,
        "requirement_id": world["requirement"].id,
        "due_date": "2026-05-01",
    }
    payloads = {
        "escalation_head": {**about_requirement, "user_id": head.id},
        "escalation_hr": {**about_requirement, "user_id": world["hr"].id},
        "head_digest": {"user_id": head.id, "as_of": "2026-06-15", "due_soon_days": 30},
        "requirement_due_soon": about_requirement,
        "requirement_overdue": about_requirement,
        "password_reset": {"link_id": _login_link(user=head).id, "nonce": "n"},
        "invitation": {"link_id": _login_link(employee=person).id, "nonce": "n"},
    }
    return OutboxMessage(
        key=f"test:{kind}:{locale}", kind=kind, payload=payloads.get(kind, about_session)
    )


def _login_link(*, user=None, employee=None) -> LoginLink:
    now = utcnow()
    link = LoginLink(
        purpose="reset" if user else "invitation",
        user=user,
        employee=employee,
        token_hash=secrets.token_hex(32),
        expires_at=now + timedelta(hours=1),
    )
    link.created_at = now
    _db.session.add(link)
    _db.session.flush()
    return link


def calendar_method(message) -> str | None:
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return part.get_param("method")
    return None


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("kind", sorted(MessageKind))
def test_each_kind_has_its_subject_recipient_and_invite(db, world, kind, locale):
    expected = EXPECTED[kind]
    message = build_message(db.session, outbox_row(world, kind, locale), delivery.mail_settings())

    # HR's login speaks German here; the others speak the row's language.
    subject = expected.german if locale == "de" or expected.recipient == "hr" else expected.english
    assert message["Subject"] == (f"{subject}: {expected.about}" if expected.about else subject)
    assert calendar_method(message) == expected.calendar_method
    expected_to = {
        "employee": world["people"][locale].email,
        "head": world["heads"][locale].email,
        "hr": world["hr"].email,
    }[expected.recipient]
    assert message["To"].addresses[0].addr_spec == expected_to
    assert message.get_body(("plain",)).get_content().strip()
    assert message.get_body(("html",)) is not None


def test_a_kind_nobody_knows_is_unknown(db, world):
    row = outbox_row(world, "booked", "de")
    row.kind = "carrier_pigeon"
    with pytest.raises(UnknownMessage):
        build_message(db.session, row, delivery.mail_settings())

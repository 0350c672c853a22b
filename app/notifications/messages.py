"""What each outbox message says: subject, plain text, HTML and calendar invite, in the
recipient's language. Built at delivery time from the row's payload, so it shows current data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal, NamedTuple

from flask import current_app, render_template
from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l

from app.auth.models import LoginLink, User
from app.auth.services.links import token_for
from app.core.models import MessageKind, OutboxMessage
from app.core.types import DbSession, utcnow
from app.courses.models import CourseSession, Enrolment
from app.courses.services.calendar import session_calendar
from app.requirements.models import Requirement
from app.requirements.services import next_sessions
from app.requirements.status import Status, people
from app.staff.models import Employee


class NoRecipient(Exception):
    """The person has no e-mail address; HR sees the message as failed, with this reason."""


class UnknownMessage(Exception):
    """The row names something that no longer exists, or a kind nobody knows."""


@dataclass(frozen=True)
class MailSettings:
    sender: str
    base_url: str
    uid_domain: str
    city_name: str


@dataclass
class Draft:
    """Who gets it and in which language, and what the template shows."""

    name: str
    email: str | None
    locale: str
    #: Named in the subject after the kind's own words (``Reminder: <course title>``).
    about: str | None = None
    context: dict[str, object] = field(default_factory=dict)
    #: The date whose calendar invite goes along, for kinds that send one.
    course_session: CourseSession | None = None


#: Reads a row's payload (ids and ISO dates); None when what it names no longer exists.
Builder = Callable[[DbSession, dict[str, Any], MailSettings], Draft | None]


@dataclass(frozen=True)
class MessageType:
    """What one kind of message says and how it is built: its entry in ``MESSAGE_TYPES``."""

    #: A lazy string, translated into the recipient's language when the mail is built.
    subject: LazyString
    #: ``mail/<template>.txt`` and ``.html``.
    template: str
    build: Builder
    #: The date goes along as a calendar invite with this method.
    calendar_method: Literal["REQUEST", "CANCEL"] | None = None


class Recipient(NamedTuple):
    name: str
    email: str | None
    locale: str


def build_message(
    db_session: DbSession, outbox: OutboxMessage, settings: MailSettings
) -> EmailMessage:
    """The e-mail for one outbox row; raises NoRecipient or UnknownMessage."""
    rendered = render(db_session, outbox, settings)
    draft, message_type = rendered.draft, rendered.message_type
    if not draft.email:
        raise NoRecipient(draft.name)
    with force_locale(draft.locale):
        html = render_template(
            f"mail/{message_type.template}.html", subject=rendered.subject, **rendered.context
        )
    subject, text = rendered.subject, rendered.text

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = Address(display_name=draft.name, addr_spec=draft.email)
    message["Date"] = format_datetime(utcnow())
    # The same message always has the same id, so a rare resend after a crash is recognisable.
    message["Message-ID"] = f"<{outbox.key.replace(':', '.')}@{settings.uid_domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    method = message_type.calendar_method
    if method and draft.course_session is not None:
        ics = session_calendar(
            draft.course_session,
            uid_domain=settings.uid_domain,
            method=method,
            organizer_email=_address_of(settings.sender),
            attendee_email=draft.email,
        )
        # As text with a charset: as bytes, umlauts in the invite arrive garbled.
        message.add_attachment(
            ics.decode("utf-8"),
            subtype="calendar",
            charset="utf-8",
            params={"method": method},
            filename="termin.ics",
        )
    return message


class Rendered(NamedTuple):
    """A message's subject and plain text in the recipient's language, and what made them."""

    draft: Draft
    message_type: MessageType
    subject: str
    text: str
    context: dict[str, object]


def render(db_session: DbSession, outbox: OutboxMessage, settings: MailSettings) -> Rendered:
    """Subject and plain text of one outbox row, whether or not the person has an e-mail
    address (a letter prints the same text); raises UnknownMessage."""
    try:
        kind = MessageKind(outbox.kind)
    except ValueError:
        raise UnknownMessage(outbox.key) from None
    message_type = MESSAGE_TYPES[kind]
    draft = message_type.build(db_session, outbox.payload or {}, settings)
    if draft is None:
        raise UnknownMessage(kind)
    with force_locale(draft.locale):
        context = {
            "kind": kind,
            "city_name": settings.city_name,
            "locale": draft.locale,
            **draft.context,
        }
        subject = str(message_type.subject)
        if draft.about is not None:
            subject = f"{subject}: {draft.about}"
        text = render_template(f"mail/{message_type.template}.txt", **context)
    return Rendered(draft, message_type, subject, text, context)


def _session_draft(
    db_session: DbSession, payload: dict[str, Any], settings: MailSettings
) -> Draft | None:
    """To the person, about their enrolment or its date."""
    employee = db_session.get(Employee, payload.get("employee_id"))
    course_session = db_session.get(CourseSession, payload.get("session_id"))
    if employee is None or course_session is None:
        return None
    return Draft(
        name=employee.full_name,
        email=employee.email,
        locale=employee.locale or "de",
        about=course_session.course.title,
        context={
            "employee": employee,
            "course_session": course_session,
            "enrolment": db_session.get(Enrolment, payload.get("enrolment_id")),
            "days": payload.get("days"),
            "link": f"{settings.base_url.rstrip('/')}/courses/sessions/{course_session.id}",
        },
        course_session=course_session,
    )


def _reminder_draft(
    db_session: DbSession, payload: dict[str, Any], settings: MailSettings
) -> Draft | None:
    """To the person whose mandatory training is due soon or overdue."""
    employee = db_session.get(Employee, payload.get("employee_id"))
    requirement = db_session.get(Requirement, payload.get("requirement_id"))
    if employee is None or requirement is None:
        return None
    return Draft(
        name=employee.full_name,
        email=employee.email,
        locale=employee.locale or "de",
        about=requirement.name,
        context=_requirement_context(db_session, employee, requirement, payload, settings),
    )


def _escalation_draft(
    db_session: DbSession, payload: dict[str, Any], settings: MailSettings
) -> Draft | None:
    """To a head or to HR, about a person long overdue."""
    employee = db_session.get(Employee, payload.get("employee_id"))
    requirement = db_session.get(Requirement, payload.get("requirement_id"))
    user = db_session.get(User, payload.get("user_id"))
    if employee is None or requirement is None or user is None:
        return None
    recipient = _user_address(user)
    return Draft(
        name=recipient.name,
        email=recipient.email,
        locale=recipient.locale,
        about=requirement.name,
        context={
            **_requirement_context(db_session, employee, requirement, payload, settings),
            "recipient": recipient.name,
        },
    )


def _digest_draft(
    db_session: DbSession, payload: dict[str, Any], settings: MailSettings
) -> Draft | None:
    """To a head: who in their area is overdue or due soon."""
    user = db_session.get(User, payload.get("user_id"))
    if user is None:
        return None
    recipient = _user_address(user)
    as_of = date.fromisoformat(payload["as_of"])
    listed = list(
        people(
            db_session,
            roots=list(user.headed_departments),
            today=as_of,
            due_soon_days=payload.get("due_soon_days", 30),
            statuses=(Status.OVERDUE.value, Status.DUE_SOON.value),
        )
    )
    return Draft(
        name=recipient.name,
        email=recipient.email,
        locale=recipient.locale,
        context={
            "recipient": recipient.name,
            "people": listed[:200],
            "more": max(0, len(listed) - 200),
            "as_of": as_of,
            "link": f"{settings.base_url.rstrip('/')}/reports/coverage",
        },
    )


def _requirement_context(
    db_session: DbSession,
    employee: Employee,
    requirement: Requirement,
    payload: dict[str, Any],
    settings: MailSettings,
) -> dict[str, object]:
    return {
        "employee": employee,
        "requirement": requirement,
        "due_date": date.fromisoformat(payload["due_date"]),
        "sessions": next_sessions(db_session, requirement),
        "base_url": settings.base_url.rstrip("/"),
        "link": f"{settings.base_url.rstrip('/')}/requirements/mine",
    }


def _login_link_draft(
    db_session: DbSession, payload: dict[str, Any], settings: MailSettings
) -> Draft | None:
    """To the login whose password may be reset, or to the invited person; the token is derived
    again from the payload's nonce (only its hash is stored)."""
    link = db_session.get(LoginLink, payload.get("link_id"))
    if link is None:
        return None
    if link.user is not None:
        recipient = _user_address(link.user)
        path = "auth/password/reset"
    elif link.employee is not None:
        employee = link.employee
        recipient = Recipient(employee.full_name, employee.email, employee.locale or "de")
        path = "auth/invitation"
    else:
        return None
    token = token_for(str(payload.get("nonce", "")), current_app.config["SECRET_KEY"])
    valid_for = link.expires_at - link.created_at
    return Draft(
        name=recipient.name,
        email=recipient.email,
        locale=recipient.locale,
        context={
            "name": recipient.name,
            "link": f"{settings.base_url.rstrip('/')}/{path}/{token}",
            "minutes": int(valid_for.total_seconds() // 60),
            "days": valid_for.days,
        },
    )


def _user_address(user: User) -> Recipient:
    employee = user.employee
    name = employee.full_name if employee else user.email
    locale = user.locale or (employee.locale if employee else None) or "de"
    return Recipient(name, user.email, locale)


def _address_of(sender: str) -> str:
    return sender.split("<")[-1].rstrip(">").strip()


#: What each kind of message says. Adding a kind: a ``MessageKind``, its entry here, a
#: migration that widens the outbox's CHECK constraint, and the producer that writes it.
MESSAGE_TYPES: dict[MessageKind, MessageType] = {
    MessageKind.BOOKED: MessageType(
        _l("Booking confirmed"), "message", _session_draft, calendar_method="REQUEST"
    ),
    MessageKind.WAITLISTED: MessageType(
        _l("You are on the waiting list"), "message", _session_draft
    ),
    MessageKind.PROMOTED: MessageType(
        _l("A seat became free: you are booked"),
        "message",
        _session_draft,
        calendar_method="REQUEST",
    ),
    MessageKind.CANCELLED: MessageType(
        _l("Booking cancelled"), "message", _session_draft, calendar_method="CANCEL"
    ),
    MessageKind.SESSION_CANCELLED: MessageType(
        _l("Date cancelled"), "message", _session_draft, calendar_method="CANCEL"
    ),
    MessageKind.SESSION_CHANGED: MessageType(
        _l("Date changed"), "message", _session_draft, calendar_method="REQUEST"
    ),
    MessageKind.SESSION_REMINDER: MessageType(
        _l("Reminder"), "message", _session_draft, calendar_method="REQUEST"
    ),
    MessageKind.REQUIREMENT_DUE_SOON: MessageType(
        _l("Mandatory training due soon"), "requirement", _reminder_draft
    ),
    MessageKind.REQUIREMENT_OVERDUE: MessageType(
        _l("Mandatory training overdue"), "requirement", _reminder_draft
    ),
    MessageKind.ESCALATION_HEAD: MessageType(
        _l("Overdue in your area"), "requirement", _escalation_draft
    ),
    MessageKind.ESCALATION_HR: MessageType(
        _l("Overdue for a long time"), "requirement", _escalation_draft
    ),
    MessageKind.HEAD_DIGEST: MessageType(
        _l("Weekly overview of mandatory trainings"), "digest", _digest_draft
    ),
    MessageKind.PASSWORD_RESET: MessageType(
        _l("Set a new password"), "login_link", _login_link_draft
    ),
    MessageKind.INVITATION: MessageType(
        _l("Your access to the training portal"), "login_link", _login_link_draft
    ),
}

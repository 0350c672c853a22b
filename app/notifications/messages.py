"""What each outbox message says: subject, plain text, HTML and calendar invite, in the
recipient's language. Built at delivery time from the row's payload, so it shows current data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.auth.models import User
from app.core.models import OutboxMessage
from app.core.types import utcnow
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


#: Kinds that carry the date as a calendar invite, and with which method.
CALENDAR_METHODS = {
    "booked": "REQUEST",
    "promoted": "REQUEST",
    "session_changed": "REQUEST",
    "session_reminder": "REQUEST",
    "cancelled": "CANCEL",
    "session_cancelled": "CANCEL",
}
SESSION_KINDS = frozenset(
    {
        "booked",
        "waitlisted",
        "promoted",
        "cancelled",
        "session_cancelled",
        "session_changed",
        "session_reminder",
    }
)


@dataclass(frozen=True)
class MailSettings:
    sender: str
    base_url: str
    uid_domain: str
    city_name: str


@dataclass
class Draft:
    """Who gets it and in which language, which template, with what in it."""

    name: str
    email: str | None
    locale: str
    template: str
    subject: object  # a callable giving the subject in the recipient's language
    context: dict = field(default_factory=dict)
    course_session: CourseSession | None = None


def build_message(db_session, outbox: OutboxMessage, settings: MailSettings) -> EmailMessage:
    """The e-mail for one outbox row; raises NoRecipient or UnknownMessage."""
    payload = outbox.payload or {}
    if outbox.kind in SESSION_KINDS:
        draft = _session_draft(db_session, outbox.kind, payload, settings)
    elif outbox.kind in REQUIREMENT_SUBJECTS:
        draft = _requirement_draft(db_session, outbox.kind, payload, settings)
    elif outbox.kind == "head_digest":
        draft = _digest_draft(db_session, payload, settings)
    else:
        raise UnknownMessage(outbox.key)
    if not draft.email:
        raise NoRecipient(draft.name)
    with force_locale(draft.locale):
        context = {
            "kind": outbox.kind,
            "city_name": settings.city_name,
            "locale": draft.locale,
            **draft.context,
        }
        subject = draft.subject()
        text = render_template(f"mail/{draft.template}.txt", **context)
        html = render_template(f"mail/{draft.template}.html", subject=subject, **context)

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
    method = CALENDAR_METHODS.get(outbox.kind)
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


def _session_draft(db_session, kind: str, payload: dict, settings: MailSettings) -> Draft:
    employee = db_session.get(Employee, payload.get("employee_id"))
    course_session = db_session.get(CourseSession, payload.get("session_id"))
    if employee is None or course_session is None:
        raise UnknownMessage(kind)
    title = course_session.course.title
    return Draft(
        name=employee.full_name,
        email=employee.email,
        locale=employee.locale or "de",
        template="message",
        subject=lambda: f"{SESSION_SUBJECTS[kind]()}: {title}",
        context={
            "employee": employee,
            "course_session": course_session,
            "enrolment": db_session.get(Enrolment, payload.get("enrolment_id")),
            "days": payload.get("days"),
            "link": f"{settings.base_url.rstrip('/')}/courses/sessions/{course_session.id}",
        },
        course_session=course_session,
    )


def _requirement_draft(db_session, kind: str, payload: dict, settings: MailSettings) -> Draft:
    employee = db_session.get(Employee, payload.get("employee_id"))
    requirement = db_session.get(Requirement, payload.get("requirement_id"))
    if employee is None or requirement is None:
        raise UnknownMessage(kind)
    context = {
        "employee": employee,
        "requirement": requirement,
        "due_date": date.fromisoformat(payload["due_date"]),
        "sessions": next_sessions(db_session, requirement),
        "base_url": settings.base_url.rstrip("/"),
        "link": f"{settings.base_url.rstrip('/')}/requirements/mine",
    }
    if kind in ("requirement_due_soon", "requirement_overdue"):
        name, email, locale = employee.full_name, employee.email, employee.locale or "de"
    else:  # an escalation goes to a head or to HR, about the employee
        user = db_session.get(User, payload.get("user_id"))
        if user is None:
            raise UnknownMessage(kind)
        name, email, locale = _user_address(user)
        context["recipient"] = name
    title = requirement.name
    return Draft(
        name=name,
        email=email,
        locale=locale,
        template="requirement",
        subject=lambda: f"{REQUIREMENT_SUBJECTS[kind]()}: {title}",
        context=context,
    )


def _digest_draft(db_session, payload: dict, settings: MailSettings) -> Draft:
    user = db_session.get(User, payload.get("user_id"))
    if user is None:
        raise UnknownMessage("head_digest")
    name, email, locale = _user_address(user)
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
        name=name,
        email=email,
        locale=locale,
        template="digest",
        subject=lambda: _("Weekly overview of mandatory trainings"),
        context={
            "recipient": name,
            "people": listed[:200],
            "more": max(0, len(listed) - 200),
            "as_of": as_of,
            "link": f"{settings.base_url.rstrip('/')}/reports/coverage",
        },
    )


def _user_address(user: User) -> tuple[str, str | None, str]:
    employee = user.employee
    name = employee.full_name if employee else user.email
    locale = user.locale or (employee.locale if employee else None) or "de"
    return name, user.email, locale


def _address_of(sender: str) -> str:
    return sender.split("<")[-1].rstrip(">").strip()


SESSION_SUBJECTS = {
    "booked": lambda: _("Booking confirmed"),
    "waitlisted": lambda: _("You are on the waiting list"),
    "promoted": lambda: _("A seat became free: you are booked"),
    "cancelled": lambda: _("Booking cancelled"),
    "session_cancelled": lambda: _("Date cancelled"),
    "session_changed": lambda: _("Date changed"),
    "session_reminder": lambda: _("Reminder"),
}
REQUIREMENT_SUBJECTS = {
    "requirement_due_soon": lambda: _("Mandatory training due soon"),
    "requirement_overdue": lambda: _("Mandatory training overdue"),
    "escalation_head": lambda: _("Overdue in your area"),
    "escalation_hr": lambda: _("Overdue for a long time"),
}

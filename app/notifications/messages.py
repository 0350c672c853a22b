"""What each outbox message says: subject, plain text, HTML and calendar invite, in the
recipient's language. Built at delivery time from the row's payload, so it shows current data."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.core.models import OutboxMessage
from app.core.types import utcnow
from app.courses.models import CourseSession, Enrolment
from app.courses.services.calendar import session_calendar
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


@dataclass(frozen=True)
class MailSettings:
    sender: str
    base_url: str
    uid_domain: str
    city_name: str


def build_message(db_session, outbox: OutboxMessage, settings: MailSettings) -> EmailMessage:
    """The e-mail for one outbox row; raises NoRecipient or UnknownMessage."""
    payload = outbox.payload or {}
    employee = db_session.get(Employee, payload.get("employee_id"))
    course_session = db_session.get(CourseSession, payload.get("session_id"))
    if employee is None or course_session is None or outbox.kind not in SUBJECTS:
        raise UnknownMessage(outbox.key)
    if not employee.email:
        raise NoRecipient(employee.personnel_number)
    enrolment = db_session.get(Enrolment, payload.get("enrolment_id"))
    with force_locale(employee.locale or "de"):
        context = {
            "kind": outbox.kind,
            "employee": employee,
            "course_session": course_session,
            "enrolment": enrolment,
            "position": payload.get("position"),
            "days": payload.get("days"),
            "link": f"{settings.base_url.rstrip('/')}/courses/sessions/{course_session.id}",
            "city_name": settings.city_name,
        }
        subject = SUBJECTS[outbox.kind]() + f": {course_session.course.title}"
        text = render_template("mail/message.txt", **context)
        html = render_template("mail/message.html", subject=subject, **context)

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = Address(display_name=employee.full_name, addr_spec=employee.email)
    message["Date"] = format_datetime(utcnow())
    # The same message always has the same id, so a rare resend after a crash is recognisable.
    message["Message-ID"] = f"<{outbox.key.replace(':', '.')}@{settings.uid_domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    method = CALENDAR_METHODS.get(outbox.kind)
    if method:
        ics = session_calendar(
            course_session,
            uid_domain=settings.uid_domain,
            method=method,
            organizer_email=_address_of(settings.sender),
            attendee_email=employee.email,
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


def _address_of(sender: str) -> str:
    return sender.split("<")[-1].rstrip(">").strip()


SUBJECTS = {
    "booked": lambda: _("Booking confirmed"),
    "waitlisted": lambda: _("You are on the waiting list"),
    "promoted": lambda: _("A seat became free: you are booked"),
    "cancelled": lambda: _("Booking cancelled"),
    "session_cancelled": lambda: _("Date cancelled"),
    "session_changed": lambda: _("Date changed"),
    "session_reminder": lambda: _("Reminder"),
}

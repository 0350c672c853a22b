"""Meine Daten: everything the product holds about one person (GDPR art. 15), as a summary
page, as JSON and as a readable PDF.

Only the person's own data: who else booked them is said as "someone else", messages about
other people (a head's digest) are listed without their subject, and nothing names another
employee. Who looked at their data is listed by login, since that is what the person has a
right to know.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app.auth.forms import ROLE_LABELS
from app.auth.models import User, UserIdentity
from app.core.audit import AccessEvent, AccessEventEmployee, jsonable
from app.core.models import TO_THE_EMPLOYEE, MessageKind, OutboxMessage
from app.core.pdf import FONT, new_document
from app.core.types import BERLIN, DbSession
from app.courses.models import Completion, Enrolment, EnrolmentEvent
from app.courses.services import feeds
from app.reports.exports import status_labels
from app.requirements.models import Exemption
from app.requirements.services import my_requirements
from app.staff.models import Department, Employee

#: The parts of a person's data, in the order the page, the JSON and the PDF show them.
SECTIONS = (
    "person",
    "department",
    "logins",
    "enrolments",
    "completions",
    "exemptions",
    "requirements",
    "messages",
    "calendar_subscription",
    "access_log",
)
#: Kinds of messages about the person's own login (sent to their address).
_LOGIN_KINDS = (MessageKind.PASSWORD_RESET.value, MessageKind.INVITATION.value)


def collect(
    db_session: DbSession, employee: Employee, *, today: date, due_soon_days: int
) -> dict[str, Any]:
    """All data held about ``employee``, one entry per section, as JSON-ready values."""
    logins = list(
        db_session.scalars(
            select(User).where(User.employee_id == employee.id).order_by(User.id)
        ).all()
    )
    data: dict[str, Any] = {
        "person": _person(employee),
        "department": _department(db_session, employee.department),
        "logins": [_login(db_session, user) for user in logins],
        "enrolments": _enrolments(db_session, employee, {user.id for user in logins}),
        "completions": _completions(db_session, employee),
        "exemptions": _exemptions(db_session, employee),
        "requirements": [
            {
                "requirement": row.name,
                "status": row.status,
                "due_date": row.due_date,
                "valid_until": row.valid_until,
            }
            for row, _dates in my_requirements(
                db_session, employee, today=today, due_soon_days=due_soon_days
            )
        ],
        "messages": _messages(db_session, employee, logins),
        "calendar_subscription": _calendar_subscription(db_session, employee),
        "access_log": _access_log(db_session, employee),
    }
    return {section: jsonable(data[section]) for section in SECTIONS}


def as_json(data: dict[str, Any]) -> bytes:
    """The download ``meine-daten.json``."""
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def as_pdf(data: dict[str, Any], *, city_name: str, lang: str) -> bytes:
    """The download ``meine-daten.pdf``: each section as a heading and its entries."""
    title = _("My data")
    pdf = new_document(title=title, author=city_name, lang=lang)
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 8, f"{title} · {city_name}", new_x="LMARGIN", new_y="NEXT")
    labels = section_labels()
    for section in SECTIONS:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(0, 7, labels[section], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        entries = data[section]
        fields = field_labels()
        values = value_labels()
        if isinstance(entries, dict):
            entries = [entries]
        if not entries:
            pdf.multi_cell(0, 5, _("None."), new_x="LMARGIN", new_y="NEXT")
        for entry in entries:
            for line in _lines(entry, fields, values):
                pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
    return bytes(pdf.output())


def section_labels() -> dict[str, str]:
    """Headings of the sections in the UI language."""
    return {
        "person": _("Person"),
        "department": _("Department"),
        "logins": _("Logins and roles"),
        "enrolments": _("Enrolments and their history"),
        "completions": _("Completions"),
        "exemptions": _("Exemptions"),
        "requirements": _("Mandatory trainings"),
        "messages": _("Messages sent to you"),
        "calendar_subscription": _("Calendar subscription"),
        "access_log": _("Who looked at your data"),
    }


def field_labels() -> dict[str, str]:
    """Names of the fields in the UI language (the JSON keeps the English keys)."""
    return {
        "personnel_number": _("Personnel number"),
        "first_name": _("First name"),
        "last_name": _("Last name"),
        "email": _("E-mail"),
        "position": _("Position"),
        "entry_date": _("Entry date"),
        "on_staff_since": _("Recorded since"),
        "exit_date": _("Exit date"),
        "active": _("Active"),
        "locale": _("Language"),
        "created_at": _("Created"),
        "last_fetched_at": _("Last fetched by a calendar"),
        "updated_at": _("Last changed"),
        "code": _("Code"),
        "name": _("Name"),
        "path": _("Part of"),
        "roles": _("Roles"),
        "has_password": _("Has a password"),
        "last_login_at": _("Last login"),
        "heads_departments": _("Head of"),
        "external_logins": _("Directory and single sign-on accounts"),
        "source": _("Source"),
        "subject": _("Subject"),
        "account_id": _("Account id"),
        "course": _("Course"),
        "starts_at": _("Starts"),
        "ends_at": _("Ends"),
        "location": _("Location"),
        "status": _("Status"),
        "waitlisted_at": _("On the waiting list since"),
        "history": _("History"),
        "action": _("Step"),
        "at": _("Date and time"),
        "by": _("Done by"),
        "deadline_overridden": _("Deadline overridden"),
        "note": _("Note"),
        "completed_on": _("Completed on"),
        "valid_until": _("Valid until"),
        "certificate_ref": _("Certificate"),
        "recorded_at": _("Recorded"),
        "requirement": _("Mandatory training"),
        "reason": _("Reason"),
        "starts_on": _("From"),
        "ends_on": _("Until"),
        "due_date": _("Due"),
        "kind": _("Kind"),
        "recipient": _("Recipient"),
        "sent_at": _("Sent"),
        "viewer": _("Viewed by"),
        "purpose": _("Where"),
        "detail": _("What"),
    }


def value_labels() -> dict[str, str]:
    """Codes of statuses, steps and actors in the UI language (the JSON keeps the codes)."""
    return {
        **status_labels(),
        **{role.value: str(label) for role, label in ROLE_LABELS.items()},
        "booked": _("booked"),
        "waitlisted": _("on the waiting list"),
        "promoted": _("moved up from the waiting list"),
        "cancelled": _("cancelled"),
        "session_cancelled": _("date cancelled"),
        "moved_away": _("moved to another date"),
        "attended": _("attended"),
        "no_show": _("did not attend"),
        "excused": _("excused"),
        "queued": _("waiting to be sent"),
        "sending": _("being sent"),
        "sent": _("sent"),
        "failed": _("failed"),
        "self": _("you"),
        "someone_else": _("someone else"),
        "system": _("the system"),
    }


#: Fields whose values are codes that ``value_labels`` names.
CODED_FIELDS = frozenset({"status", "action", "by", "roles"})


# --- the sections -----------------------------------------------------------------------


def _person(employee: Employee) -> dict[str, Any]:
    return {
        "personnel_number": employee.personnel_number,
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "email": employee.email,
        "position": employee.position,
        "entry_date": employee.entry_date,
        "on_staff_since": employee.on_staff_since,
        "exit_date": employee.exit_date,
        "active": employee.active,
        "locale": employee.locale,
        "created_at": employee.created_at,
        "updated_at": employee.updated_at,
    }


def _department(db_session: DbSession, department: Department) -> dict[str, Any]:
    ids = [int(part) for part in department.path.strip("/").split("/") if part]
    names = {
        id_: name
        for id_, name in db_session.execute(
            select(Department.id, Department.name).where(Department.id.in_(ids))
        )
    }
    return {
        "code": department.code,
        "name": department.name,
        "path": [names[id_] for id_ in ids if id_ in names],
    }


def _login(db_session: DbSession, user: User) -> dict[str, Any]:
    identities = db_session.scalars(
        select(UserIdentity).where(UserIdentity.user_id == user.id).order_by(UserIdentity.id)
    ).all()
    return {
        "email": user.email,
        "active": user.active,
        "roles": sorted(role.value for role in user.roles),
        "has_password": user.has_password,
        "locale": user.locale,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
        "heads_departments": [department.name for department in user.headed_departments],
        "external_logins": [
            {
                "source": identity.source,
                "account_id": identity.subject,
                "created_at": identity.created_at,
                "last_login_at": identity.last_login_at,
            }
            for identity in identities
        ],
    }


def _enrolments(
    db_session: DbSession, employee: Employee, own_user_ids: set[int]
) -> list[dict[str, Any]]:
    enrolments = db_session.scalars(
        select(Enrolment)
        .where(Enrolment.employee_id == employee.id)
        .options(selectinload(Enrolment.events), selectinload(Enrolment.session))
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()
    return [
        {
            "course": enrolment.session.course.title,
            "starts_at": enrolment.session.starts_at,
            "ends_at": enrolment.session.ends_at,
            "location": enrolment.session.location,
            "status": enrolment.status,
            "created_at": enrolment.created_at,
            "waitlisted_at": enrolment.waitlisted_at,
            "history": [_event(event, own_user_ids) for event in enrolment.events],
        }
        for enrolment in enrolments
    ]


def _event(event: EnrolmentEvent, own_user_ids: set[int]) -> dict[str, Any]:
    if event.actor_user_id is None:
        by = "system"
    elif event.actor_user_id in own_user_ids:
        by = "self"
    else:
        by = "someone_else"
    return {
        "action": event.action,
        "at": event.created_at,
        "by": by,
        "deadline_overridden": event.deadline_overridden,
        "note": event.note,
    }


def _completions(db_session: DbSession, employee: Employee) -> list[dict[str, Any]]:
    completions = db_session.scalars(
        select(Completion)
        .where(Completion.employee_id == employee.id)
        .options(selectinload(Completion.course))
        .order_by(Completion.completed_on, Completion.id)
    ).all()
    return [
        {
            "course": completion.course.title,
            "completed_on": completion.completed_on,
            "valid_until": completion.valid_until,
            "certificate_ref": completion.certificate_ref,
            "recorded_at": completion.created_at,
        }
        for completion in completions
    ]


def _exemptions(db_session: DbSession, employee: Employee) -> list[dict[str, Any]]:
    exemptions = db_session.scalars(
        select(Exemption)
        .where(Exemption.employee_id == employee.id)
        .options(selectinload(Exemption.requirement))
        .order_by(Exemption.starts_on, Exemption.id)
    ).all()
    return [
        {
            "requirement": exemption.requirement.name,
            "reason": exemption.reason,
            "starts_on": exemption.starts_on,
            "ends_on": exemption.ends_on,
            "recorded_at": exemption.created_at,
        }
        for exemption in exemptions
    ]


def _messages(
    db_session: DbSession, employee: Employee, logins: Iterable[User]
) -> list[dict[str, Any]]:
    addresses = {user.email for user in logins} | ({employee.email} if employee.email else set())
    about_them = and_(
        OutboxMessage.kind.in_([kind.value for kind in TO_THE_EMPLOYEE]),
        OutboxMessage.payload["employee_id"].as_integer() == employee.id,
    )
    to_their_address = OutboxMessage.recipient.in_(sorted(addresses))
    rows = db_session.scalars(
        select(OutboxMessage)
        .where(or_(about_them, to_their_address) if addresses else about_them)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ).all()
    own_kinds = {kind.value for kind in TO_THE_EMPLOYEE} | set(_LOGIN_KINDS)
    return [
        {
            "kind": message.kind,
            # A message to them as a head is about other people: its subject stays out.
            "subject": message.subject if message.kind in own_kinds else "",
            "recipient": message.recipient if message.recipient in addresses else "",
            "status": message.status,
            "created_at": message.created_at,
            "sent_at": message.sent_at,
        }
        for message in rows
    ]


def _calendar_subscription(db_session: DbSession, employee: Employee) -> list[dict[str, Any]]:
    """Whether the person has a subscription address (the address itself is not repeated)."""
    feed = feeds.feed_of(db_session, employee)
    if feed is None:
        return []
    return [{"created_at": feed.created_at, "last_fetched_at": feed.last_fetched_at}]


def _access_log(db_session: DbSession, employee: Employee) -> list[dict[str, Any]]:
    rows = db_session.execute(
        select(AccessEvent.at, AccessEvent.viewer, AccessEvent.purpose, AccessEvent.detail)
        .join(AccessEventEmployee, AccessEventEmployee.event_id == AccessEvent.id)
        .where(AccessEventEmployee.employee_id == employee.id)
        .order_by(AccessEvent.at.desc(), AccessEvent.id.desc())
    ).all()
    return [
        {"at": at, "viewer": viewer, "purpose": purpose, "detail": detail}
        for at, viewer, purpose, detail in rows
    ]


def _lines(
    entry: object, fields: dict[str, str], values: dict[str, str], indent: str = ""
) -> list[str]:
    """An entry as readable lines: ``label: value``, nested lists indented."""
    if not isinstance(entry, dict):
        return [f"{indent}{readable(entry)}"]
    lines: list[str] = []
    for key, value in entry.items():
        label = fields.get(key, key)
        if key in CODED_FIELDS and isinstance(value, str):
            value = values.get(value, value)
        elif key in CODED_FIELDS and isinstance(value, list):
            value = [values.get(item, item) for item in value]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{indent}{label}:")
            for item in value:
                lines.extend(_lines(item, fields, values, indent + "    "))
        elif isinstance(value, list):
            lines.append(f"{indent}{label}: {', '.join(readable(item) for item in value) or '—'}")
        else:
            lines.append(f"{indent}{label}: {readable(value)}")
    return lines


def readable(value: object) -> str:
    """A JSON value as a person reads it: dates as dd.mm.yyyy, times in Germany's time."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if "T" not in value:
            return moment.strftime("%d.%m.%Y")
        if moment.tzinfo is not None:
            moment = moment.astimezone(BERLIN)
        return moment.strftime("%d.%m.%Y %H:%M")
    return str(value)

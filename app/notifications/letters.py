"""Letters for staff without an e-mail address (building yard, cleaning, kitchens): what the
product would have mailed them, printed for their head or HR to hand out.

Invitations are built from the bookings as they are now (so a changed room is printed right);
other messages that could not be mailed are printed from the same text as the e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager

from app.core.pdf import FONT, new_document
from app.core.types import DbSession
from app.courses.models import CourseSession, Enrolment, EnrolmentStatus
from app.courses.services.sign_in_sheet import session_facts
from app.staff.models import Department, Employee
from app.staff.services import subtree_condition

if TYPE_CHECKING:
    from fpdf import FPDF

#: Rows read from the database at a time: a department of thousands is not held twice.
BATCH = 500


@dataclass(frozen=True)
class LetterSettings:
    city_name: str
    logo: Path | None
    #: Whom to call with questions (``LETTER_CONTACT``); empty: the letter names the head/HR.
    contact: str
    #: What to bring (``LETTER_WHAT_TO_BRING``); empty: the letter asks for itself.
    what_to_bring: str


@dataclass(frozen=True)
class PrintedMessage:
    """A message that could not be mailed, as a letter: to whom, about what, and its text."""

    name: str
    department: str
    subject: str
    text: str


def invitations_for_session(
    db_session: DbSession, course_session: CourseSession, *, roots: Sequence[Department] | None
) -> Iterator[Enrolment]:
    """The booked people of a date who have no e-mail address (of ``roots``' subtrees when
    given: a head prints for their own staff)."""
    query = _invitations().where(Enrolment.session_id == course_session.id)
    if roots is not None:
        query = query.where(subtree_condition(roots))
    return _stream(db_session, query)


def invitations_for_department(
    db_session: DbSession, department: Department, *, now: datetime
) -> Iterator[Enrolment]:
    """Every upcoming booking of the department's people (and below) without an e-mail address."""
    query = _invitations().where(
        subtree_condition([department]),
        CourseSession.starts_at > now,
        CourseSession.cancelled_at.is_(None),
    )
    return _stream(db_session, query)


def invitation_letters_pdf(
    enrolments: Iterable[Enrolment], settings: LetterSettings, *, today: date
) -> bytes:
    """One page per booking: the invitation with date, time, place, room and directions, what
    to bring and whom to call."""
    pdf = _document(_("Invitations"), settings)
    for enrolment in enrolments:
        employee = enrolment.employee
        course_session = enrolment.session
        _letterhead(pdf, settings, employee.full_name, employee.department.name, today)
        _subject(
            pdf, _('Invitation to the training "%(title)s"', title=course_session.course.title)
        )
        pdf.multi_cell(0, 5.5, _("Dear %(name)s,", name=employee.full_name), align="L")
        pdf.ln(2)
        pdf.multi_cell(
            0,
            5.5,
            _(
                "you are booked for the following training. It is part of your working time. "
                "Please keep this letter."
            ),
            align="L",
        )
        pdf.ln(4)
        facts = session_facts(course_session)
        facts.append((_("Room and directions"), course_session.notes or "–"))
        facts.append(
            (_("Please bring"), settings.what_to_bring or _("this letter and something to write"))
        )
        facts.append(
            (_("Questions?"), settings.contact or _("Please ask your head or the HR department."))
        )
        for label, value in facts:
            pdf.set_font(FONT, "B", 10)
            pdf.cell(45, 6, label)
            pdf.set_font(FONT, "", 10)
            pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(4)
        pdf.multi_cell(
            0,
            5.5,
            _(
                "If you cannot come, please tell your head as early as possible, so that "
                "someone else can have the seat."
            ),
            align="L",
        )
        _closing(pdf, settings)
    return _output(pdf)


def message_letters_pdf(
    messages: Iterable[PrintedMessage], settings: LetterSettings, *, today: date
) -> bytes:
    """One page per message that could not be mailed, with the text the e-mail would have had."""
    pdf = _document(_("Letters"), settings)
    for message in messages:
        _letterhead(pdf, settings, message.name, message.department, today)
        _subject(pdf, message.subject)
        pdf.multi_cell(0, 5.5, message.text, align="L")
    return _output(pdf)


# --- helpers ---------------------------------------------------------------------------------


def _invitations() -> Select[Enrolment]:
    return (
        select(Enrolment)
        .join(Enrolment.employee)
        .join(Employee.department)
        .join(Enrolment.session)
        .where(
            Enrolment.status == EnrolmentStatus.BOOKED.value,
            Employee.active.is_(True),
            or_(Employee.email.is_(None), Employee.email == ""),
        )
        .options(
            contains_eager(Enrolment.employee).contains_eager(Employee.department),
            contains_eager(Enrolment.session).joinedload(CourseSession.course),
        )
        .order_by(Department.path, Employee.last_name, Employee.first_name, CourseSession.starts_at)
    )


def _stream(db_session: DbSession, query: Select[Enrolment]) -> Iterator[Enrolment]:
    yield from db_session.scalars(query.execution_options(yield_per=BATCH))


def _document(title: str, settings: LetterSettings) -> FPDF:
    pdf = new_document(title=title, author=settings.city_name, lang=str(get_locale()))
    pdf.set_margins(25, 20, 20)
    return pdf


def _letterhead(
    pdf: FPDF, settings: LetterSettings, name: str, department: str, today: date
) -> None:
    """A new page with the city's name and logo, the addressee (handed out in the department,
    so their name and department, not a postal address) and the date."""
    pdf.add_page()
    if settings.logo is not None:
        pdf.image(str(settings.logo), x=pdf.w - pdf.r_margin - 18, y=15, w=18)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 7, settings.city_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.cell(0, 5, _("Training coordination"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)
    pdf.set_font(FONT, "", 11)
    pdf.cell(0, 6, name, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, department, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.cell(0, 6, format_date(today, "dd.MM.yyyy"), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def _subject(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 6.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(4)
    pdf.set_font(FONT, "", 10.5)


def _closing(pdf: FPDF, settings: LetterSettings) -> None:
    pdf.ln(6)
    pdf.multi_cell(0, 5.5, _("Kind regards"), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.multi_cell(
        0, 5.5, f"{settings.city_name} – {_('Training coordination')}", new_x="LMARGIN", align="L"
    )


def _output(pdf: FPDF) -> bytes:
    if pdf.page == 0:  # nobody to write to: one page that says so, not an empty file
        pdf.add_page()
        pdf.multi_cell(
            0, 6, _("Nobody here needs a letter: everyone has an e-mail address."), align="L"
        )
    return bytes(pdf.output())

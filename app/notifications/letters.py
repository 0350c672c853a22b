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
from typing import cast

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

#: Rows read from the database at a time: a department of thousands is not held twice.
BATCH = 500
#: Wrapped texts remembered per document (the same paragraphs recur on every letter).
WRAPPED_KEPT = 1000


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
    writer = _Writer(_("Invitations"), settings)
    for enrolment in enrolments:
        employee = enrolment.employee
        course_session = enrolment.session
        writer.letterhead(employee.full_name, employee.department.name, today)
        writer.subject(
            _('Invitation to the training "%(title)s"', title=course_session.course.title)
        )
        writer.text(_("Dear %(name)s,", name=employee.full_name))
        writer.pdf.ln(2)
        writer.text(
            _(
                "you are booked for the following training. It is part of your working time. "
                "Please keep this letter."
            )
        )
        writer.pdf.ln(4)
        facts = session_facts(course_session)
        facts.append((_("Room and directions"), course_session.notes or "–"))
        facts.append(
            (_("Please bring"), settings.what_to_bring or _("this letter and something to write"))
        )
        facts.append(
            (_("Questions?"), settings.contact or _("Please ask your head or the HR department."))
        )
        for label, value in facts:
            writer.fact(label, value)
        writer.pdf.ln(4)
        writer.text(
            _(
                "If you cannot come, please tell your head as early as possible, so that "
                "someone else can have the seat."
            )
        )
        writer.closing()
    return writer.output()


def message_letters_pdf(
    messages: Iterable[PrintedMessage], settings: LetterSettings, *, today: date
) -> bytes:
    """One page per message that could not be mailed, with the text the e-mail would have had."""
    writer = _Writer(_("Letters"), settings)
    for message in messages:
        writer.letterhead(message.name, message.department, today)
        writer.subject(message.subject)
        writer.text(message.text)
    return writer.output()


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


class _Writer:
    """Letters on A4 pages. Text is wrapped once per document and then written line by line:
    most of a letter is the same on every page, and fpdf2's line breaking is what takes the
    time (2,000 letters: minutes when every paragraph is wrapped again, seconds like this)."""

    #: Width of the labels in a letter's list of facts, in mm.
    LABEL_WIDTH = 45.0

    def __init__(self, title: str, settings: LetterSettings) -> None:
        self.settings = settings
        self.pdf = new_document(title=title, author=settings.city_name, lang=str(get_locale()))
        self.pdf.set_margins(25, 20, 20)
        self._wrapped: dict[tuple[str, str, float, float], list[str]] = {}

    def letterhead(self, name: str, department: str, today: date) -> None:
        """A new page with the city's name and logo, the addressee (handed out in the
        department, so their name and department, not a postal address) and the date."""
        pdf = self.pdf
        pdf.add_page()
        if self.settings.logo is not None:
            pdf.image(str(self.settings.logo), x=pdf.w - pdf.r_margin - 18, y=15, w=18)
        self.text(self.settings.city_name, style="B", size=13, height=7)
        self.text(_("Training coordination"), size=9, height=5)
        pdf.ln(14)
        self.text(name, size=11, height=6)
        self.text(department, size=11, height=6)
        pdf.ln(8)
        pdf.cell(0, 6, format_date(today, "dd.MM.yyyy"), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)

    def subject(self, text: str) -> None:
        self.text(text, style="B", size=12, height=6.5)
        self.pdf.ln(4)

    def fact(self, label: str, value: str) -> None:
        """A label in bold, the value beside it (wrapped within its column)."""
        pdf = self.pdf
        top = pdf.get_y()
        self.text(label, style="B", size=10, height=6)
        pdf.set_y(top)
        self.text(value, size=10, height=6, indent=self.LABEL_WIDTH)

    def closing(self) -> None:
        self.pdf.ln(6)
        self.text(_("Kind regards"))
        self.text(f"{self.settings.city_name} – {_('Training coordination')}")

    def text(
        self,
        text: str,
        *,
        style: str = "",
        size: float = 10.5,
        height: float = 5.5,
        indent: float = 0.0,
    ) -> None:
        """Left-aligned text, wrapped to the page (from ``indent`` mm), breaking pages."""
        from fpdf.enums import MethodReturnValue

        pdf = self.pdf
        pdf.set_font(FONT, style, size)
        width = pdf.epw - indent
        key = (text, style, size, width)
        lines = self._wrapped.get(key)
        if lines is None:
            wrapped = pdf.multi_cell(
                width, height, text, align="L", dry_run=True, output=MethodReturnValue.LINES
            )
            lines = [str(line) for line in cast(list[str], wrapped)]
            if len(self._wrapped) < WRAPPED_KEPT:
                self._wrapped[key] = lines
        for line in lines:
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(width, height, line, new_x="LMARGIN", new_y="NEXT")

    def output(self) -> bytes:
        if self.pdf.page == 0:  # nobody to write to: one page that says so, not an empty file
            self.pdf.add_page()
            self.text(_("Nobody here needs a letter: everyone has an e-mail address."))
        return bytes(self.pdf.output())

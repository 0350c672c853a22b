"""The sign-in sheet (Teilnehmerliste) of a date: printed for the trainer, signed by everyone
who came, and typed into the attendance page afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, select

from app.core.pdf import FONT, new_document
from app.core.types import BERLIN, DbSession
from app.courses.models import SEATED_STATUSES, CourseSession, Enrolment
from app.staff.models import Department, Employee

#: Empty rows after the booked people, for whoever comes without a booking.
BLANK_ROWS = 5


@dataclass(frozen=True)
class Participant:
    last_name: str
    first_name: str
    department: str
    personnel_number: str


def participant_ids(course_session: CourseSession) -> Select[int]:
    """A SELECT of the ids of the people on the sheet (for the access log)."""
    return select(Enrolment.employee_id).where(
        Enrolment.session_id == course_session.id, Enrolment.status.in_(SEATED_STATUSES)
    )


def participants(db_session: DbSession, course_session: CourseSession) -> list[Participant]:
    """Everyone holding a seat on the date (not the waiting list, not the cancelled), by name."""
    rows = db_session.execute(
        select(Employee.last_name, Employee.first_name, Department.name, Employee.personnel_number)
        .join(Enrolment, Enrolment.employee_id == Employee.id)
        .join(Department, Department.id == Employee.department_id)
        .where(
            Enrolment.session_id == course_session.id,
            Enrolment.status.in_(SEATED_STATUSES),
        )
        .order_by(Employee.last_name, Employee.first_name, Employee.personnel_number)
    )
    return [Participant(*row) for row in rows]


def sign_in_sheet_pdf(
    course_session: CourseSession,
    people: list[Participant],
    *,
    city_name: str,
    logo: Path | None,
    blank_rows: int = BLANK_ROWS,
) -> bytes:
    """One table with a signature column, its heading repeated on every page."""
    from fpdf.fonts import FontFace

    title = _("Sign-in sheet")
    pdf = new_document(
        title=f"{title}: {course_session.course.title}",
        author=city_name,
        lang=str(get_locale()),
    )
    pdf.add_page()
    if logo is not None:
        pdf.image(str(logo), x=pdf.w - pdf.r_margin - 16, y=10, w=16)
    pdf.set_font(FONT, "", 9)
    pdf.cell(0, 5, city_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(160, 6, course_session.course.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, "", 10)
    for label, value in session_facts(course_session):
        pdf.cell(30, 6, f"{label}:")
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    heading = FontFace(emphasis="BOLD", fill_color=(230, 236, 244))
    with pdf.table(
        col_widths=(10, 52, 43, 33, 52),
        text_align=("RIGHT", "LEFT", "LEFT", "LEFT", "LEFT"),
        headings_style=heading,
        line_height=8,
    ) as table:
        table.row(["#", _("Name"), _("Department"), _("Personnel number"), _("Signature")])
        for number, person in enumerate(people, start=1):
            table.row(
                [
                    str(number),
                    f"{person.last_name}, {person.first_name}",
                    person.department,
                    person.personnel_number,
                    "",
                ]
            )
        for number in range(len(people) + 1, len(people) + 1 + blank_rows):
            table.row([str(number), "", "", "", ""])
    pdf.ln(4)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(
        0,
        5,
        _(
            "People without a booking: please write name, department and personnel number "
            "in an empty row. Attendance is recorded from this list."
        ),
    )
    return bytes(pdf.output())


def session_facts(course_session: CourseSession) -> list[tuple[str, str]]:
    """When, where and with whom, as (label, text) in Berlin time, for printed pages."""
    starts = course_session.starts_at.astimezone(BERLIN)
    ends = course_session.ends_at.astimezone(BERLIN)
    facts = [
        (_("Date"), format_date(starts.date(), "EEEE, dd.MM.yyyy")),
        (_("Time"), _("%(start)s to %(end)s", start=f"{starts:%H:%M}", end=f"{ends:%H:%M}")),
        (_("Place"), course_session.location or course_session.online_url or _("online")),
    ]
    trainer = course_session.trainer or course_session.course.trainer
    if trainer:
        facts.append((_("Trainer"), trainer))
    return facts

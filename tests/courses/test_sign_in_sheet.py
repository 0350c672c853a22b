"""The sign-in sheet (Teilnehmerliste) HR prints for the trainer: everyone holding a seat,
with a signature column and empty rows for walk-ins; nobody waiting or cancelled."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from app.core.roles import Role
from app.courses.models import Enrolment
from app.courses.services import enrolment as service


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_sheet_lists_the_booked_people_not_the_waiting_or_cancelled(client, login, make, hr, db):
    yard = make.department("BH", name="Betriebshof Süd")
    course_session = make.course_session(
        make.course(title="Interkulturelle Kompetenz im Bürgerservice"),
        capacity=2,
        location="Rathaus, Sitzungssaal 2",
        trainer="Ayşe Yılmaz",
    )
    booked = make.employee(yard, first_name="Jürgen", last_name="Çelik", personnel_number="000123")
    cancelled = make.employee(yard, first_name="Grete", last_name="Weiß")
    seated = make.employee(yard, first_name="Dragan", last_name="Kovačević")
    waiting = make.employee(yard, first_name="Maria", last_name="Schäfer")
    for person in (booked, cancelled, seated, waiting):
        service.enrol(db.session, employee=person, course_session=course_session, actor=hr)
    # Weiß cancels: her seat goes to Kovačević, first in line; Schäfer keeps waiting.
    theirs = db.session.scalar(select(Enrolment).where(Enrolment.employee_id == cancelled.id))
    service.cancel_enrolment(db.session, enrolment=theirs, actor=hr)
    db.session.commit()

    login("hr@stadt.example")
    page = client.get(f"/courses/sessions/{course_session.id}").get_data(as_text=True)
    assert "Teilnehmerliste (PDF)" in page
    response = client.get(f"/courses/sessions/{course_session.id}/sign-in-sheet.pdf")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    text = "\n".join(pdf_pages(response.data))
    assert "Teilnehmerliste" in text and "Unterschrift" in text
    assert "Interkulturelle Kompetenz im Bürgerservice" in text
    assert "Rathaus, Sitzungssaal 2" in text and "Ayşe Yılmaz" in text
    assert "Çelik, Jürgen" in text and "000123" in text and "Betriebshof Süd" in text
    assert "Kovačević, Dragan" in text  # moved up from the waiting list: holds a seat
    assert "Weiß" not in text  # cancelled
    assert "Schäfer" not in text  # still waiting
    # Two people, then five empty numbered rows for walk-ins.
    lines = text.split("Unterschrift", 1)[1].splitlines()
    assert {"3", "7"} <= set(lines) and "8" not in lines


def test_a_long_list_breaks_onto_more_pages_with_everyone_on_it(client, login, make, hr, db):
    yard = make.department("BH", name="Betriebshof")
    course_session = make.course_session(capacity=80)
    people = [make.employee(yard, last_name=f"Özkan{n:02d}") for n in range(70)]
    for person in people:
        service.enrol(db.session, employee=person, course_session=course_session, actor=hr)
    db.session.commit()
    login("hr@stadt.example")

    pages = pdf_pages(client.get(f"/courses/sessions/{course_session.id}/sign-in-sheet.pdf").data)

    assert len(pages) >= 3
    assert all("Unterschrift" in page for page in pages[1:])  # the heading repeats
    text = "\n".join(pages)
    assert all(f"Özkan{n:02d}" in text for n in range(70))


def test_only_hr_prints_the_sheet(client, login, make, db):
    yard = make.department("BH")
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(yard,))
    make.user("erika@stadt.example")
    course_session = make.course_session()
    path = f"/courses/sessions/{course_session.id}/sign-in-sheet.pdf"
    for email in ("leitung@stadt.example", "erika@stadt.example"):
        login(email)
        assert client.get(path).status_code == 403
        client.post("/auth/logout", data={})
        client.delete_cookie("session")

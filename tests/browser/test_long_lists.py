"""Long lists in Chromium: a date with 120 participants and a unit of 30 departments, paged,
searched and recorded by keyboard alone, and every such page clean for axe."""

from __future__ import annotations

from datetime import date, timedelta

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.clock import local_today
from app.core.roles import Role
from app.courses.models import Enrolment, EnrolmentStatus
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from app.staff.models import Employee
from app.staff.services import create_department
from tests.browser.test_journeys import WCAG_AA
from tests.factories import DEFAULT_PASSWORD

PARTICIPANTS = 120


def _large_city(db, make):
    """A Fachbereich of 30 Kitas (six people each), a requirement for all, and two dates of
    120 participants: one past (attendance), one coming (60 more to book)."""
    top = make.department("D3", name="Dezernat III")
    unit = make.department("FB", name="Fachbereich Kitas", parent=top)
    course = make.course("IKK", title="Interkulturelle Kompetenz")
    rule = Requirement(
        name="Basis", first_due_date=local_today() - timedelta(days=10), courses=[course]
    )
    rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(rule)
    people = []
    for n in range(30):
        kita = create_department(db.session, code=f"FB-{n:02d}", name=f"Kita {n:02d}", parent=unit)
        for k in range(6):
            person = Employee(
                personnel_number=f"K{n:02d}{k}",
                first_name="Vorname",
                last_name=f"Teilnehmer {6 * n + k:03d}",
                department=kita,
                active=True,
                entry_date=date(2020, 1, 1),
            )
            db.session.add(person)
            people.append(person)
    db.session.commit()
    dates = {}
    for name, starts_in in (("past", timedelta(days=-1)), ("coming", timedelta(days=10))):
        course_session = make.course_session(course, capacity=200, starts_in=starts_in)
        db.session.add_all(
            Enrolment(
                session_id=course_session.id,
                employee_id=person.id,
                status=EnrolmentStatus.BOOKED.value,
            )
            for person in people[:PARTICIPANTS]
        )
        course_session.seats_taken = PARTICIPANTS
        dates[name] = course_session.id
    db.session.commit()
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(top,))
    return dates


def test_long_lists_of_hr_and_the_head_pass_axe_in_both_languages(page, log_in, db, make):
    dates = _large_city(db, make)
    visits = {
        "hr@stadt.example": [
            f"/courses/sessions/{dates['coming']}",
            f"/courses/sessions/{dates['coming']}?page=2&q=Teilnehmer",
            f"/courses/sessions/{dates['past']}/attendance?page=3",
            f"/courses/sessions/{dates['coming']}/book?department=FB&untrained_only=y&page=2",
            "/staff/employees?page=2",
        ],
        "leitung@stadt.example": [
            f"/courses/sessions/{dates['coming']}?page=2",
            "/reports/coverage?department=FB&departments_page=2",
            "/reports/people?department=FB&page=2",
            "/staff/departments/FB?departments_page=2",
            "/staff/departments",
        ],
    }
    axe = Axe()
    problems = {}
    for email, paths in visits.items():
        for language in ("Deutsch", "English"):
            page.context.clear_cookies()
            log_in(email, DEFAULT_PASSWORD)
            page.get_by_role("button", name=language).click()
            for path in paths:
                assert page.goto(path).ok, path
                result = axe.run(page, options=WCAG_AA)
                if result.violations_count:
                    problems[(email, language, path)] = [
                        (v["id"], v["nodes"][0]["target"]) for v in result.response["violations"]
                    ]
    assert problems == {}


def _tab_to(page, locator, limit: int = 400) -> None:
    """Press Tab until ``locator`` has the focus, as a keyboard user moves through the page."""
    for _ in range(limit):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{locator} never got the focus")


def test_hr_pages_searches_and_records_attendance_by_keyboard(page, log_in, db, make):
    dates = _large_city(db, make)
    log_in("hr@stadt.example", DEFAULT_PASSWORD)
    page.goto(f"/courses/sessions/{dates['coming']}")
    participants = page.get_by_role("region", name="Teilnehmende")
    expect(participants).to_contain_text("120 Personen (1–50 angezeigt)")
    current = page.get_by_role("link", name="Seite 1", exact=True)
    expect(current).to_have_attribute("aria-current", "page")

    # To the second page by keyboard: the link says where it leads, and the list follows.
    second = page.get_by_role("link", name="Seite 2", exact=True)
    _tab_to(page, second)
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Seite 2", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(participants).to_contain_text("Teilnehmer 050, Vorname")
    expect(participants).not_to_contain_text("Teilnehmer 049, Vorname")

    # After the date: find the one who was absent, mark them, everyone else attended.
    page.goto(f"/courses/sessions/{dates['past']}/attendance")
    search = page.get_by_label("Suche nach Name, Personalnummer oder Organisationseinheit")
    _tab_to(page, search)
    page.keyboard.type("Teilnehmer 087")
    page.keyboard.press("Enter")
    absent = page.get_by_role("radio", name="Vorname Teilnehmer 087: nicht erschienen")
    _tab_to(
        page, page.get_by_role("radio", name="Vorname Teilnehmer 087: teilgenommen", exact=True)
    )
    page.keyboard.press("ArrowRight")  # within the person's group: the next outcome
    expect(absent).to_be_checked()
    finish = page.get_by_role(
        "button", name="Speichern, und alle anderen noch nicht Erfassten haben teilgenommen"
    )
    _tab_to(page, finish)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Anwesenheit wurde gespeichert")

    db.session.expire_all()
    statuses = dict(
        db.session.execute(
            select(Employee.last_name, Enrolment.status)
            .join(Enrolment.employee)
            .where(Enrolment.session_id == dates["past"])
        ).all()
    )
    assert statuses.pop("Teilnehmer 087") == "no_show"
    assert set(statuses.values()) == {"attended"} and len(statuses) == PARTICIPANTS - 1

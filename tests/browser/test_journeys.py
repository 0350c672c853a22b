"""Journeys through the real app in Chromium, as the people who use it would go."""

from datetime import date, timedelta
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from app.courses.models import CourseSession
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from tests.factories import DEFAULT_PASSWORD


def overdue_employee(db, make):
    """Aylin at the Bürgeramt, overdue for the citizen-service training; one date offered."""
    office = make.department("BA", name="Bürgeramt")
    course = make.course("IKK", title="Interkulturelle Kompetenz im Bürgerservice")
    rule = Requirement(
        name="Bürgerservice", first_due_date=date.today() - timedelta(days=20), courses=[course]
    )
    rule.audience = [AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=office)]
    db.session.add(rule)
    db.session.commit()
    person = make.employee(office, first_name="Aylin", last_name="Demir")
    make.user("aylin@stadt.example", employee=person)
    session = make.course_session(
        course, capacity=1, starts_in=timedelta(days=14), location="Rathaus, Sitzungssaal"
    )
    return session


def test_employee_books_the_overdue_training_downloads_the_invite_and_cancels(
    page, log_in, db, make
):
    course_session = overdue_employee(db, make)
    log_in("aylin@stadt.example", DEFAULT_PASSWORD)
    requirements = page.get_by_role("region", name="Meine Pflichtschulungen")
    expect(requirements).to_contain_text("Bürgerservice")
    expect(requirements).to_contain_text("überfällig")

    requirements.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("status")).to_contain_text("Sie sind angemeldet")
    expect(page.get_by_role("region", name="Meine Anmeldung")).to_contain_text("gebucht")

    with page.expect_download() as download:
        page.get_by_role("link", name="Kalenderdatei herunterladen (.ics)").click()
    event = next(iter(Calendar.from_ical(Path(download.value.path()).read_bytes()).walk("VEVENT")))
    assert str(event["location"]) == "Rathaus, Sitzungssaal"

    page.get_by_role("button", name="Meine Buchung stornieren").click()
    expect(page.get_by_role("status")).to_contain_text("storniert")
    db.session.expire_all()
    assert db.session.get(CourseSession, course_session.id).seats_taken == 0
    expect(page.get_by_role("button", name="Anmelden")).to_be_visible()


def test_language_switch_to_english_and_back_sticks(page, log_in, db, make):
    overdue_employee(db, make)
    log_in("aylin@stadt.example", DEFAULT_PASSWORD)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="My mandatory trainings")).to_be_visible()
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Courses and dates", exact=True).click()
    expect(page.get_by_role("heading", name="Courses and dates", level=1)).to_be_visible()
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("heading", name="Schulungen und Termine", level=1)).to_be_visible()


def test_main_pages_have_no_accessibility_violations(page, log_in, db, make):
    overdue_employee(db, make)
    axe = Axe()
    page.goto("/auth/login")
    pages = {"/auth/login": axe.run(page, options=WCAG_AA)}
    log_in("aylin@stadt.example", DEFAULT_PASSWORD)
    for path in ("/", "/courses/", "/courses/mine"):
        page.goto(path)
        pages[path] = axe.run(page, options=WCAG_AA)
    problems = {
        path: [(v["id"], v["help"]) for v in result.response["violations"]]
        for path, result in pages.items()
        if result.violations_count
    }
    assert problems == {}
    assert db.session.scalar(select(CourseSession.id)) is not None


WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def test_pages_of_every_role_in_both_languages_pass_axe(page, log_in, db, make):
    from app.auth.models import Role

    course_session = overdue_employee(db, make)
    office = make.department("D2", name="Dezernat II")
    make.user("hr@stadt.example", roles=(Role.HR, Role.ADMIN), with_employee=False)
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(office,))
    axe = Axe()
    visits = {
        "hr@stadt.example": [
            "/reports/coverage",
            "/requirements/",
            "/requirements/new",
            f"/courses/sessions/{course_session.id}",
            f"/courses/sessions/{course_session.id}/book",
            "/courses/course/new",
            "/staff/employees",
            "/staff/departments",
            "/notifications/outbox",
            "/auth/users",
            "/auth/users/new",
            "/status",
        ],
        "leitung@stadt.example": ["/", "/reports/coverage", "/staff/departments"],
    }
    problems = {}
    for email, paths in visits.items():
        for language in ("Deutsch", "English"):
            page.context.clear_cookies()
            log_in(email, DEFAULT_PASSWORD)
            page.get_by_role("button", name=language).click()
            for path in paths:
                page.goto(path)
                result = axe.run(page, options=WCAG_AA)
                if result.violations_count:
                    problems[(email, language, path)] = [
                        (v["id"], v["nodes"][0]["target"]) for v in result.response["violations"]
                    ]
    assert problems == {}


def test_full_session_waiting_list_then_seat(page, log_in, browser, live_server, db, make):
    course_session = overdue_employee(db, make)  # one seat
    from app.courses.services import enrolment

    colleague = make.employee(first_name="Jonas")
    hr = make.user(
        "hr@stadt.example",
        roles=(__import__("app.auth.models").auth.models.Role.HR,),
        with_employee=False,
    )
    booked = enrolment.enrol(
        db.session, employee=colleague, course_session=course_session, actor=hr
    )
    db.session.commit()
    log_in("aylin@stadt.example", DEFAULT_PASSWORD)
    page.goto(f"/courses/sessions/{course_session.id}")
    page.get_by_role("button", name="Auf die Warteliste setzen").click()
    expect(page.get_by_role("status")).to_contain_text("Platz 1 der Warteliste")
    enrolment.cancel_enrolment(db.session, enrolment=booked, actor=hr)  # Jonas cancels
    db.session.commit()
    page.reload()
    expect(page.get_by_role("region", name="Meine Anmeldung")).to_contain_text("gebucht")


def test_phone_width_has_no_sideways_scrolling(page, log_in, db, make):
    overdue_employee(db, make)
    page.set_viewport_size({"width": 360, "height": 740})
    log_in("aylin@stadt.example", DEFAULT_PASSWORD)
    for path in ("/", "/courses/", "/courses/mine"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path

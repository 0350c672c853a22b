"""Journeys through the real app in Chromium, as the people who use it would go."""

from datetime import timedelta
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.clock import local_today
from app.courses.models import CourseSession
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from app.staff.models import Employee
from app.staff.services import find_department
from tests.factories import DEFAULT_PASSWORD


def overdue_employee(db, make):
    """Aylin at the Bürgeramt, overdue for the citizen-service training; one date offered."""
    office = make.department("BA", name="Bürgeramt")
    course = make.course("IKK", title="Interkulturelle Kompetenz im Bürgerservice")
    rule = Requirement(
        name="Bürgerservice", first_due_date=local_today() - timedelta(days=20), courses=[course]
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


#: Pages that wait for a Celery worker reload themselves when it is done (progress.js).
WORKER_WAIT_MS = 30_000

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def test_pages_of_every_role_in_both_languages_pass_axe(page, log_in, db, make):
    from app.core.roles import Role

    course_session = overdue_employee(db, make)
    office = make.department("D2", name="Dezernat II")
    make.user("hr@stadt.example", roles=(Role.HR, Role.ADMIN), with_employee=False)
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(office,))
    make.user("datenschutz@stadt.example", roles=(Role.DATA_PROTECTION,), with_employee=False)
    make.user("personalrat@stadt.example", roles=(Role.STAFF_COUNCIL,), with_employee=False)
    # Enough people for the staff council's table to show two departments and their bars.
    public_order = make.department("D2-OA", name="Ordnungsamt", parent=office)
    citizens_office = find_department(db.session, "BA")
    for n in range(5):
        make.employee(public_order, last_name=f"Ordnung{n}")
    for n in range(4):
        make.employee(citizens_office, last_name=f"Bürger{n}")
    basics = Requirement(name="Basis", first_due_date=local_today() - timedelta(days=5), courses=[])
    basics.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(basics)
    db.session.commit()

    aylin = db.session.scalar(select(Employee.id).where(Employee.first_name == "Aylin"))
    axe = Axe()
    visits = {
        "datenschutz@stadt.example": [
            "/privacy/audit",
            "/privacy/audit?date_from=2027-02-01&date_to=2027-01-01",  # with a form error
            "/privacy/access",
            "/privacy/audit/summary",
        ],
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
            "/imports/",
            "/privacy/retention",
            f"/privacy/people/{aylin}",
            "/api-clients",
            "/api/v1/docs",
        ],
        "leitung@stadt.example": ["/", "/reports/coverage", "/staff/departments"],
        "personalrat@stadt.example": [
            "/",
            "/reports/council/",
            f"/reports/council/coverage?requirement={basics.id}",
            "/privacy/audit/summary",
        ],
        "aylin@stadt.example": [
            "/",
            "/courses/",
            "/courses/mine",
            f"/courses/sessions/{course_session.id}",
            "/privacy/my-data",
        ],
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


def test_200_percent_zoom_keeps_everything_reachable(browser, live_server, db, make):
    """A 1280 px screen at 200 % zoom lays out like 640 CSS pixels at twice the density."""
    overdue_employee(db, make)
    db.session.commit()
    context = browser.new_context(
        base_url=live_server, viewport={"width": 640, "height": 400}, device_scale_factor=2
    )
    zoomed = context.new_page()
    zoomed.goto("/auth/login")
    zoomed.get_by_label("E-Mail-Adresse").fill("aylin@stadt.example")
    zoomed.get_by_label("Passwort").fill(DEFAULT_PASSWORD)
    zoomed.get_by_role("button", name="Anmelden").click()
    for path in ("/", "/courses/", "/requirements/mine"):
        zoomed.goto(path)
        overflow = zoomed.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
        expect(
            zoomed.get_by_role("link", name="Abmelden").or_(
                zoomed.get_by_role("button", name="Abmelden")
            )
        ).to_be_visible()
    context.close()


def test_hr_schedules_books_a_department_marks_attendance_and_coverage_rises(
    page, log_in, db, make
):
    from app.core.roles import Role

    kita = make.department("KITA", name="Kita Buchenbusch")
    old_course = make.course("ALT", title="Alte Schulung")
    rule = Requirement(
        name="Elternarbeit", first_due_date=local_today() - timedelta(days=5), courses=[old_course]
    )
    rule.audience = [AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=kita)]
    db.session.add(rule)
    db.session.commit()
    for n in range(2):
        make.employee(kita, last_name=f"Erzieherin{n}")
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    log_in("hr@stadt.example", DEFAULT_PASSWORD)

    page.get_by_role("link", name="Schulungen und Termine").click()
    page.get_by_role("link", name="Neue Schulung").click()
    page.get_by_label("Kürzel").fill("ELT-MIG")
    page.get_by_label("Titel").fill("Elternarbeit mit zugewanderten Familien")
    page.get_by_label("Gültigkeit in Monaten").fill("36")
    page.get_by_role("button", name="Speichern").click()
    page.get_by_role("link", name="Neuer Termin").click()
    start = local_today() + timedelta(days=7)
    page.get_by_label("Beginn", exact=True).fill(f"{start.isoformat()}T09:00")
    page.get_by_label("Ende", exact=True).fill(f"{start.isoformat()}T12:30")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Der Termin wurde gespeichert")
    session_url = page.url

    page.get_by_role("link", name="Personen anmelden").click()
    page.get_by_label("Organisationseinheit (einschließlich aller Untereinheiten)").select_option(
        label="Kita Buchenbusch"
    )
    page.get_by_role("button", name="Personen anzeigen").click()
    page.get_by_role("button", name="Ausgewählte Personen anmelden").click()
    expect(page.get_by_role("status")).to_contain_text("2 gebucht")

    # The requirement accepts the new course too.
    page.get_by_role("link", name="Pflichtschulungen").click()
    page.get_by_role("link", name="Elternarbeit", exact=True).click()
    page.get_by_label("Elternarbeit mit zugewanderten Familien").check()
    page.get_by_role("button", name="Speichern").click()

    page.get_by_role("link", name="Schulungsquote").click()
    kita_row = page.get_by_role("row", name="Kita Buchenbusch")
    expect(kita_row).to_contain_text("0 %")

    # The date has taken place.
    course_session = db.session.scalar(select(CourseSession).where(CourseSession.capacity > 0))
    course_session.starts_at -= timedelta(days=8)
    course_session.ends_at -= timedelta(days=8)
    db.session.commit()
    page.goto(session_url)
    page.get_by_role("link", name="Anwesenheit erfassen").click()
    page.get_by_role("button", name="Anwesenheit speichern").click()  # all marked attended
    expect(page.get_by_role("status")).to_contain_text("Anwesenheit wurde gespeichert")
    page.get_by_role("link", name="Schulungsquote").click()
    expect(page.get_by_role("row", name="Kita Buchenbusch")).to_contain_text("100 %")


def test_head_sees_own_area_drills_down_and_exports_matching_numbers(page, log_in, db, make):
    import csv
    import io

    from openpyxl import load_workbook

    from app.core.roles import Role
    from app.courses.models import Completion

    care = make.department("KB", name="Kinderbetreuung")
    kita = make.department("KB-1", name="Kita Zeppelinheim", parent=care)
    other = make.department("BA", name="Bürgeramt")
    course = make.course("ELT", title="Elternarbeit")
    rule = Requirement(
        name="Basis", first_due_date=local_today() - timedelta(days=10), courses=[course]
    )
    rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(rule)
    trained = make.employee(kita, last_name="Geschult")
    make.employee(kita, last_name="Überfällig")
    make.employee(other, last_name="Anderswo")
    db.session.add(
        Completion(
            employee=trained,
            course=course,
            completed_on=local_today() - timedelta(days=3),
            valid_until=None,
        )
    )
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(care,))
    log_in("leitung@stadt.example", DEFAULT_PASSWORD)

    page.get_by_role("link", name="Schulungsquote").click()
    expect(page.get_by_role("main")).not_to_contain_text("Bürgeramt")
    row = page.get_by_role("row", name="Kinderbetreuung")
    expect(row).to_contain_text("50 %")
    row.get_by_role("link", name="1").first.click()  # the overdue count
    expect(page.get_by_role("main")).to_contain_text("Überfällig")
    expect(page.get_by_role("main")).not_to_contain_text("Geschult")
    page.get_by_role("link", name="Zurück").click()

    with page.expect_download() as download:
        page.get_by_role("link", name="Alle Personen exportieren (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))[3:]
    assert sorted((r[1], r[5]) for r in rows) == [
        ("Geschult", "erfüllt"),
        ("Überfällig", "überfällig"),
    ]

    with page.expect_download() as download:
        page.get_by_role("link", name="Als Excel-Datei exportieren (XLSX)").click()
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
    summary = list(workbook["Schulungsquote"].iter_rows(values_only=True))
    kb = next(r for r in summary[3:] if r[1] == "Kinderbetreuung")
    assert (kb[2], kb[3], kb[5], kb[8]) == (2, 1, 1, 50.0)  # in scope, compliant, overdue, %


def test_keyboard_only_booking_with_visible_focus(page, log_in, db, make):
    overdue_employee(db, make)
    log_in("aylin@stadt.example", DEFAULT_PASSWORD)
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Zum Inhalt springen")).to_be_focused()
    page.keyboard.press("Enter")
    # Tab through the page until the booking button of the overdue training has the focus.
    button = page.get_by_role("region", name="Meine Pflichtschulungen").get_by_role(
        "button", name="Anmelden"
    )
    for _ in range(40):
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            break
    expect(button).to_be_focused()
    outline = button.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Sie sind angemeldet")


def test_hr_imports_staff_fixes_a_bad_row_previews_and_confirms(
    page, log_in, db, make, celery_worker
):
    from app.core.roles import Role

    make.department("FB-51", name="Kinderbetreuung")
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    header = "Personalnummer;Vorname;Nachname;E-Mail;Organisationseinheit;Eintrittsdatum\r\n"
    good = "4711;Jürgen;Groß;j.gross@stadt.example;FB-51;01.03.2019\r\n"
    bad = "4712;Ayşe;Çelik;a.celik@stadt.example;FB-51;31.02.2021\r\n"
    log_in("hr@stadt.example", DEFAULT_PASSWORD)
    axe = Axe()
    problems = {}

    def scan(name):
        result = axe.run(page, options=WCAG_AA)
        if result.violations_count:
            problems[name] = [
                (v["id"], v["nodes"][0]["target"]) for v in result.response["violations"]
            ]

    page.get_by_role("link", name="Import").click()
    scan("upload")
    page.get_by_label("Inhalt der Datei").select_option(label="Personal")
    page.get_by_label("Datei (CSV oder XLSX)").set_input_files(
        files=[
            {
                "name": "personal.csv",
                "mimeType": "text/csv",
                "buffer": ("\ufeff" + header + good + bad).encode(),
            }
        ]
    )
    page.get_by_role("button", name="Hochladen und prüfen").click()

    errors = page.get_by_role("table", name="Probleme")
    expect(errors).to_contain_text("Eintrittsdatum", timeout=WORKER_WAIT_MS)  # checked by a worker
    expect(page.get_by_role("row").filter(has_text="31.02.2021")).to_contain_text("3")
    expect(page.get_by_role("alert")).to_contain_text("Es wurde nichts importiert")
    scan("errors")

    fixed = bad.replace("31.02.2021", "28.02.2021")
    page.get_by_label("Datei (CSV oder XLSX)").set_input_files(
        files=[
            {
                "name": "personal-korrigiert.csv",
                "mimeType": "text/csv",
                "buffer": ("\ufeff" + header + good + fixed).encode(),
            }
        ]
    )
    page.get_by_role("button", name="Hochladen und prüfen").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Vorschau: Es wurde noch nichts geändert.", timeout=WORKER_WAIT_MS
    )
    expect(page.get_by_role("status").first).to_contain_text("2 neu")
    expect(page.get_by_role("table").first).to_contain_text("Çelik")
    scan("preview")

    page.get_by_role("button", name="Jetzt importieren").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Importiert am", timeout=WORKER_WAIT_MS
    )
    scan("done")
    page.get_by_role("link", name="Personal", exact=True).click()
    expect(page.get_by_role("table")).to_contain_text("Çelik")
    expect(page.get_by_role("table")).to_contain_text("Groß")
    assert problems == {}

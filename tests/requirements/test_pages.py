"""Requirement and coverage pages as HR, heads and employees use them."""

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.core.clock import local_today
from app.core.roles import Role
from app.core.types import utcnow
from app.courses.models import Completion, Enrolment
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from tests.conftest import csrf_token


@pytest.fixture
def city(db, make):
    """Two areas with different coverage and a requirement for everyone."""
    d3 = make.department("D3", name="Dezernat III")
    kita = make.department("D3-KITA", name="Kita Buchenbusch", parent=d3)
    d2 = make.department("D2", name="Dezernat II")
    office = make.department("D2-BA", name="Bürgeramt", parent=d2)
    course = make.course("IKK", title="Interkulturelle Kompetenz", validity_months=36)
    rule = Requirement(
        name="Basis", first_due_date=local_today() - timedelta(days=30), courses=[course]
    )
    rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(rule)
    trained = [make.employee(office, last_name=f"Geschult{n}") for n in range(3)]
    make.employee(office, last_name="Offen")
    for n in range(2):
        make.employee(kita, last_name=f"Überfällig{n}")
    make.employee(kita, last_name='=HYPERLINK("http://evil")')
    for person in trained:
        db.session.add(
            Completion(
                employee=person,
                course=course,
                completed_on=local_today() - timedelta(days=10),
                valid_until=local_today() + timedelta(days=1000),
            )
        )
    db.session.commit()
    return {"d3": d3, "kita": kita, "d2": d2, "office": office, "rule": rule, "course": course}


def test_hr_sees_city_coverage_and_drills_down(client, login, make, city):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    page = client.get("/reports/coverage").get_data(as_text=True)
    assert "Dezernat II" in page and "Dezernat III" in page
    assert "75 %" in page  # Bürgeramt side: 3 of 4
    assert "0 %" in page  # Kita side: 0 of 3
    overdue = client.get(
        "/reports/people",
        query_string={"department": "D3", "status": "overdue", "requirement": city["rule"].id},
    ).get_data(as_text=True)
    assert "Überfällig0" in overdue and "Geschult0" not in overdue


def test_head_sees_only_their_subtree_and_gets_403_elsewhere(client, login, make, city):
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(city["d2"],))
    login("leitung@stadt.example")
    page = client.get("/reports/coverage").get_data(as_text=True)
    assert "Bürgeramt" not in page or "Dezernat II" in page
    assert "Dezernat III" not in page
    assert client.get("/reports/coverage", query_string={"department": "D3"}).status_code == 403
    assert (
        client.get("/reports/people.csv", query_string={"department": "D3-KITA"}).status_code == 403
    )
    assert client.get("/reports/coverage", query_string={"department": "D2-BA"}).status_code == 200


def test_hr_and_heads_see_the_on_time_share_beside_coverage(client, db, login, make, city):
    """Someone whose completion runs out within the due-soon days counts in coverage, not
    in "davon fristgerecht"; the page says so."""
    soon = make.employee(city["office"], last_name="Bald")
    db.session.add(
        Completion(
            employee=soon,
            course=city["course"],
            completed_on=local_today() - timedelta(days=1000),
            valid_until=local_today() + timedelta(days=5),
        )
    )
    db.session.commit()
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(city["d2"],))
    for email, whole_city in (("hr@stadt.example", True), ("leitung@stadt.example", False)):
        login(email)
        page = client.get("/reports/coverage").get_data(as_text=True)
        assert ("Dezernat III" in page) is whole_city
        assert "davon fristgerecht" in page
        assert "Die Schulungsquote zählt alle mit gültigem Nachweis, auch wenn er bald" in page
        # Bürgeramt side: 4 of 5 hold a valid completion, 3 of 5 not due soon
        assert "80 %" in page and "60 %" in page
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})


def test_employee_cannot_open_reports(client, login, make, city):
    make.user("erika@stadt.example")
    login("erika@stadt.example")
    assert client.get("/reports/coverage").status_code == 403
    assert client.get("/requirements/").status_code == 403


def test_csv_export_is_excel_friendly_and_safe(client, login, make, city):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    response = client.get("/reports/people.csv")
    assert response.status_code == 200
    raw = response.data
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Schulungsquote" and "Stand" in rows[0]
    header, data = rows[2], rows[3:]
    assert header[:3] == ["Personalnummer", "Nachname", "Vorname"]
    assert len(data) == 7
    assert {row[5] for row in data} == {"erfüllt", "überfällig"}
    formula = next(row for row in data if "HYPERLINK" in row[1])
    assert formula[1].startswith("'=")


def test_xlsx_export_writes_formula_like_names_as_text(client, login, make, city):
    from openpyxl import load_workbook

    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    workbook = load_workbook(io.BytesIO(client.get("/reports/people.xlsx").data))
    cells = [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row]
    formula = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert formula.data_type == "s" and formula.value.startswith("'=")
    assert not any(c.data_type == "f" for c in cells)


def test_employee_sees_own_requirements_with_next_dates(client, login, make, city, db):
    person = make.employee(city["kita"], first_name="Aylin")
    make.user("aylin@stadt.example", employee=person)
    make.course_session(city["course"], starts_in=timedelta(days=10))
    login("aylin@stadt.example")
    page = client.get("/").get_data(as_text=True)
    assert "Meine Pflichtschulungen" in page
    assert "Basis" in page
    # The status as a sign and a word, never colour alone; in English as well.
    assert '<span class="status status--overdue">⚠ überfällig</span>' in page
    assert "/courses/sessions/" in page
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    english = client.get("/").get_data(as_text=True)
    assert '<span class="status status--overdue">⚠ overdue</span>' in english


def test_only_dates_still_open_for_enrolment_are_offered(client, login, make, city, db):
    """A one-click "Anmelden" on a date whose enrolment deadline has passed would only answer
    that the deadline has passed: such dates are not offered (found in the demo city)."""
    person = make.employee(city["kita"], first_name="Aylin")
    make.user("aylin@stadt.example", employee=person)
    closed = make.course_session(
        city["course"],
        starts_in=timedelta(days=4),
        enrolment_deadline=utcnow() - timedelta(hours=1),
    )
    still_open = make.course_session(
        city["course"],
        starts_in=timedelta(days=9),
        enrolment_deadline=utcnow() + timedelta(hours=1),
    )
    without_deadline = make.course_session(city["course"], starts_in=timedelta(days=14))
    login("aylin@stadt.example")

    page = client.get("/requirements/mine").get_data(as_text=True)

    assert f"/courses/sessions/{closed.id}/enrol" not in page
    assert f"/courses/sessions/{still_open.id}/enrol" in page
    assert f"/courses/sessions/{without_deadline.id}/enrol" in page


def test_hr_creates_a_requirement_with_clear_errors(client, login, make, city, db):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    form = {"csrf_token": csrf_token(client, "/requirements/new"), "name": "Neu"}
    page = client.post("/requirements/new", data=form).get_data(as_text=True)
    assert "Bitte korrigieren Sie" in page
    assert db.session.scalar(select(Requirement).where(Requirement.name == "Neu")) is None
    form.update(
        courses=[str(city["course"].id)],
        include_departments="D3-KITA, GIBTSNICHT",
        grace_days="90",
    )
    page = client.post("/requirements/new", data=form).get_data(as_text=True)
    assert "GIBTSNICHT" in page
    form["include_departments"] = "D3-KITA"
    assert client.post("/requirements/new", data=form).status_code == 302
    created = db.session.scalar(select(Requirement).where(Requirement.name == "Neu"))
    assert [r.department.code for r in created.audience] == ["D3-KITA"]


def test_hr_exempts_someone(client, login, make, city, db):
    person = make.employee(city["kita"], personnel_number="777")
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    path = f"/requirements/{city['rule'].id}/exemptions"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "personnel_number": "777",
            "reason": "Elternzeit",
            "starts_on": local_today().isoformat(),
        },
    )
    assert response.status_code == 302
    assert "Elternzeit" in client.get(path).get_data(as_text=True)
    from app.reports.services import coverage

    rows = coverage(
        db.session,
        departments=[city["d3"]],
        scope_roots=None,
        today=local_today(),
        due_soon_days=30,
        with_total=False,
    )
    assert [(r.exempt, r.in_scope) for r in rows] == [(1, 3)]
    assert person.id


def test_cli_writes_the_coverage_report(app, city, tmp_path):
    target = tmp_path / "quote.csv"
    result = app.test_cli_runner().invoke(
        args=["coverage-report", "--department", "D2", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][1] == "Dezernat II"
    assert sorted(row[1] for row in rows[3:]) == ["Geschult0", "Geschult1", "Geschult2", "Offen"]
    for file_format, magic in (("xlsx", b"PK"), ("pdf", b"%PDF")):
        target = tmp_path / f"quote.{file_format}"
        result = app.test_cli_runner().invoke(
            args=["coverage-report", "--format", file_format, "-o", str(target)]
        )
        assert result.exit_code == 0, result.output
        assert target.read_bytes().startswith(magic)
    bad = app.test_cli_runner().invoke(args=["coverage-report", "--department", "NOPE"])
    assert bad.exit_code != 0 and "NOPE" in bad.output


def test_xlsx_export_matches_the_page(client, login, make, city):
    from openpyxl import load_workbook

    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    response = client.get("/reports/people.xlsx", query_string={"department": "D2"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    summary = list(workbook["Schulungsquote"].iter_rows(values_only=True))
    assert summary[0][1] == "Dezernat II"
    department_row = next(r for r in summary[3:] if r[1] == "Dezernat II")
    assert department_row[2:4] == (4, 3) and department_row[8] == 75.0
    people_rows = list(workbook["Personen"].iter_rows(values_only=True))[1:]
    assert sorted(r[1] for r in people_rows) == ["Geschult0", "Geschult1", "Geschult2", "Offen"]


def test_monthly_snapshots_feed_the_trend_chart(client, login, make, city, db):
    from app.reports.models import CoverageSnapshot
    from app.reports.services import take_snapshot

    for month in (1, 2, 3):
        assert take_snapshot(db.session, today=date(2026, month, 1), due_soon_days=30) > 0
    assert take_snapshot(db.session, today=date(2026, 3, 1), due_soon_days=30) == 0  # idempotent
    db.session.commit()
    city_rows = db.session.scalars(
        select(CoverageSnapshot).where(CoverageSnapshot.department_id.is_(None))
    ).all()
    assert len(city_rows) == 3
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    page = client.get("/reports/coverage").get_data(as_text=True)
    assert "<svg" in page and "<polyline" in page
    assert "01/26: " in page  # the values are in the chart's description for screen readers
    assert "Dezernat II: 75 %" in page  # the bar chart by department, described the same way


def test_large_export_is_built_in_the_background(
    app, client, login, make, city, monkeypatch, celery_worker
):
    import time

    monkeypatch.setitem(app.config, "EXPORT_IN_BACKGROUND_ABOVE", 2)
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    response = client.get("/reports/people.csv")
    assert response.status_code == 302
    status_page = response.headers["Location"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        progress = client.get(f"{status_page}.json").get_json()
        if progress["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert progress == {"status": "done", "progress": 100}
    page = client.get(status_page).get_data(as_text=True)
    assert "Die Datei ist fertig" in page
    download = client.get(f"{status_page}/download")
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows[3:]) == 7

    make.user("andere@stadt.example", roles=(Role.HR,), with_employee=False)
    from tests.conftest import csrf_token

    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login("andere@stadt.example")
    assert client.get(f"{status_page}/download").status_code == 404


def test_pdf_report_for_a_head_names_the_people(client, login, make, city):
    from pypdf import PdfReader

    make.employee(city["kita"], first_name="Çağla", last_name="Kovačević-Yılmaz")
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(city["d3"],))
    login("leitung@stadt.example")
    response = client.get("/reports/coverage.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Schulungsquote: Dezernat III" in text
    assert "Kovačević-Yılmaz, Çağla" in text
    assert "Überfällig0" in text and "Geschult0" not in text
    assert client.get("/reports/coverage.pdf", query_string={"department": "D2"}).status_code == 403


def test_requirement_with_a_yearly_cycle_and_refused_combinations(client, login, make, city, db):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    form = {
        "csrf_token": csrf_token(client, "/requirements/new"),
        "name": "Jährlich",
        "courses": [str(city["course"].id)],
        "everyone": "y",
        "first_due_date": "2027-03-31",
        "renewal_months": "12",
        "cycle_day": "28",
        "cycle_month": "3",
    }
    page = client.post("/requirements/new", data=form).get_data(as_text=True)
    assert "nicht beides" in page
    del form["renewal_months"]
    assert client.post("/requirements/new", data=form).status_code == 302
    saved = db.session.scalar(select(Requirement).where(Requirement.name == "Jährlich"))
    assert (saved.cycle_day, saved.cycle_month, saved.renewal_months) == (28, 3, None)


def test_employee_enrols_from_their_requirements_in_one_click(client, login, make, city, db):
    import re

    from app.courses.models import Enrolment

    person = make.employee(city["kita"], first_name="Aylin")
    make.user("aylin@stadt.example", employee=person)
    course_session = make.course_session(city["course"], starts_in=timedelta(days=10))
    login("aylin@stadt.example")
    page = client.get("/").get_data(as_text=True)
    action = f"/courses/sessions/{course_session.id}/enrol"
    assert f'action="{action}"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(action, data={"csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(select(Enrolment.status)) == "booked"


def test_my_requirements_offer_the_soonest_dates_of_any_course_in_few_statements(
    client, login, make, city, db
):
    """Each requirement offers the three soonest open dates of any of its courses; the page's
    statements do not grow with the number of requirements (one query for all next dates)."""
    from sqlalchemy import event

    from app.requirements.services import my_requirements

    person = make.employee(city["kita"], first_name="Aylin")
    make.user("aylin@stadt.example", employee=person)
    second = make.course("IKK-2", title="Interkulturelle Kompetenz kompakt", validity_months=36)
    city["rule"].courses.append(second)
    db.session.commit()
    days = {}
    for name, course, offset in (
        ("a", city["course"], 20),
        ("b", second, 3),
        ("c", city["course"], 5),
        ("d", second, 30),
        ("e", second, 8),
        ("f", city["course"], 40),
    ):
        days[name] = make.course_session(course, starts_in=timedelta(days=offset))
    make.course_session(second, starts_in=timedelta(days=1), cancelled_at=utcnow())
    items = my_requirements(db.session, person, today=date.today(), due_soon_days=30)
    offered = {row.name: [s.id for s in sessions] for row, sessions in items}
    assert offered["Basis"] == [days["b"].id, days["c"].id, days["e"].id]

    def statements_with(requirements: int) -> int:
        for n in range(requirements):
            extra = Requirement(
                name=f"Weitere {requirements}-{n}", first_due_date=date.today(), courses=[]
            )
            extra.courses = [make.course(f"W{requirements}-{n}")]
            extra.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
            db.session.add(extra)
            db.session.commit()
            make.course_session(extra.courses[0], starts_in=timedelta(days=2))
        seen: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/requirements/mine").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len([s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))])

    login("aylin@stadt.example")
    assert statements_with(1) == statements_with(6)


def test_coverage_lists_every_requirement_and_pages_through_their_tables(
    app, client, db, login, make, city
):
    for n in range(3):
        extra = Requirement(name=f"Zusatz {n}", first_due_date=local_today(), courses=[])
        extra.courses = [make.course(f"Z{n}")]
        extra.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
        db.session.add(extra)
    db.session.commit()
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    app.config["COVERAGE_REQUIREMENTS_PER_PAGE"] = 3
    try:
        first = client.get("/reports/coverage").get_data(as_text=True)
        second = client.get("/reports/coverage?page=2").get_data(as_text=True)
        beyond = client.get("/reports/coverage?page=3")
    finally:
        app.config["COVERAGE_REQUIREMENTS_PER_PAGE"] = 10

    # The overview names all four on both pages; the tables are Basis, Zusatz 0, 1 then 2.
    for page in (first, second):
        assert all(f">{name}</a>" in page for name in ("Basis", "Zusatz 0", "Zusatz 1"))
        assert "Zusatz 2</a>" in page
    assert first.count('<section aria-labelledby="req-') == 3
    assert second.count('<section aria-labelledby="req-') == 1
    assert f'id="req-{city["rule"].id}"' in first and f'id="req-{city["rule"].id}"' not in second
    assert "Seite 2 von 2" in second or "Page 2 of 2" in second
    assert "75 %" in first  # Bürgeramt side of Basis, as before
    assert beyond.status_code == 404


def test_statements_built_once_answer_for_the_day_and_moment_they_run(make, city, db, monkeypatch):
    """The start page's statements are built once per process and run with today's date and
    the current time as parameters: the same person's status and offered dates change with
    the day and the moment, as they did when each request built its statements anew."""
    from app.courses.services import queries
    from app.requirements import services
    from app.requirements.services import my_requirements

    person = make.employee(city["kita"], first_name="Aylin")
    soon = make.course_session(city["course"], starts_in=timedelta(hours=2))
    later = make.course_session(city["course"], starts_in=timedelta(days=9))
    db.session.add(Enrolment(session=soon, employee=person, status="booked"))
    db.session.commit()
    booked = queries.employee_overview(db.session, person).upcoming
    assert [(b.session_id, b.status, b.course_title) for b in booked] == [
        (soon.id, "booked", city["course"].title)
    ]
    first_due = city["rule"].first_due_date

    def basis(today: date):
        items = my_requirements(db.session, person, today=today, due_soon_days=30)
        return next((row, dates) for row, dates in items if row.name == "Basis")

    row, dates = basis(first_due - timedelta(days=60))
    assert row.status == "pending" and [d.id for d in dates][:1] == [soon.id]
    row, _ = basis(first_due - timedelta(days=10))
    assert row.status == "due_soon"
    row, _ = basis(first_due + timedelta(days=1))
    assert row.status == "overdue"

    three_hours_on = utcnow() + timedelta(hours=3)  # the first date has begun by then
    monkeypatch.setattr(services, "utcnow", lambda: three_hours_on)
    monkeypatch.setattr(queries, "utcnow", lambda: three_hours_on)
    _, dates = basis(first_due - timedelta(days=60))
    assert [d.id for d in dates][:1] == [later.id]
    assert queries.employee_overview(db.session, person).upcoming == []


def test_each_requirement_comes_once_with_its_dates_and_only_the_first_get_dates(make, city, db):
    """The start page's one statement joins the dates onto the statuses: a requirement with
    several dates still comes once, in the page's order, and with ``dates_for_first`` only
    the first so many get dates (the start page lists only those)."""
    from app.requirements.services import my_requirements

    person = make.employee(city["kita"], first_name="Aylin")
    extra_course = make.course("IKK-X", title="Kommunikation")
    later_rule = Requirement(
        name="Zweite", first_due_date=local_today() + timedelta(days=300), courses=[extra_course]
    )
    later_rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(later_rule)
    db.session.commit()
    for days in (3, 5, 8, 13):
        make.course_session(city["course"], starts_in=timedelta(days=days))
    make.course_session(extra_course, starts_in=timedelta(days=4))
    db.session.commit()

    def listed(**limits):
        items = my_requirements(db.session, person, today=local_today(), due_soon_days=30, **limits)
        return [(row.name, len(dates)) for row, dates in items]

    assert listed(dates_per_requirement=3) == [("Basis", 3), ("Zweite", 1)]
    assert listed(dates_per_requirement=1, dates_for_first=1) == [("Basis", 1), ("Zweite", 0)]
    assert listed(dates_per_requirement=2, dates_for_first=2) == [("Basis", 2), ("Zweite", 1)]

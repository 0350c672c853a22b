"""The CSV, XLSX and PDF files of a report as the person who opens them sees them."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest

from app.courses.models import Completion
from app.reports import exports
from app.reports.services import coverage
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from app.requirements.status import FOREVER, Status, people
from tests.reports.conftest import DUE_SOON_DAYS, TODAY

HEADER = [
    "Personalnummer",
    "Nachname",
    "Vorname",
    "Organisationseinheit",
    "Pflichtschulung",
    "Status",
    "Fälligkeit",
    "Gültig bis",
]


@pytest.fixture
def listed(db, make, city):
    """Everyone's status in the city, with a name a spreadsheet would run as a formula and a
    completion that never expires; ordered by name and requirement."""
    make.employee(city.b, first_name="@Ann", last_name='=HYPERLINK("http://evil")')
    privacy_course = make.course("DS", title="Datenschutz kompakt", validity_months=None)
    privacy = Requirement(
        name="Datenschutz", first_due_date=date(2026, 3, 1), courses=[privacy_course]
    )
    privacy.audience = [AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=city.school)]
    db.session.add(privacy)
    db.session.add(
        Completion(
            employee=city.sommer,
            course=privacy_course,
            completed_on=date(2026, 2, 1),
            valid_until=None,
        )
    )
    db.session.commit()
    found = people(
        db.session,
        roots=None,
        today=TODAY,
        due_soon_days=DUE_SOON_DAYS,
        statuses=[s.value for s in Status],
    )
    return sorted(found, key=lambda p: (p.employee.last_name, p.requirement.name))


def expected_people(listed):
    """The people rows both spreadsheets hold, dates written as in the CSV."""
    evil, ann = '\'=HYPERLINK("http://evil")', "'@Ann"
    rows = [
        (evil, ann, "Dezernat II", "Basis", "überfällig", "01.03.2026", ""),
        (evil, ann, "Dezernat II", "Erste Hilfe", "noch nicht fällig", "30.09.2026", ""),
        ("Frühling", "Fritz", "Bürgeramt", "Basis", "befreit", "01.03.2026", ""),
        ("Herbst", "Hanna", "Bürgeramt", "Basis", "bald fällig", "25.06.2026", "25.06.2026"),
        ("Regen", "Rita", "Dezernat II", "Basis", "überfällig", "01.03.2026", "01.01.2026"),
        ("Regen", "Rita", "Dezernat II", "Erste Hilfe", "noch nicht fällig", "30.09.2026", ""),
        ("Sommer", "Sina", "Schule am Park", "Basis", "erfüllt", "09.01.2029", "09.01.2029"),
        (
            "Sommer",
            "Sina",
            "Schule am Park",
            "Datenschutz",
            "erfüllt",
            "unbefristet",
            "unbefristet",
        ),
        ("Winter", "Wim", "Amt für Bildung", "Basis", "überfällig", "01.03.2026", ""),
    ]
    return [[p.employee.personnel_number, *row] for p, row in zip(listed, rows, strict=True)]


def test_csv_opens_in_german_excel_with_every_status_and_date(listed):
    text = "".join(exports.people_csv(listed, scope_name="gesamte Stadt", today=TODAY))
    assert text.startswith("\ufeffSchulungsquote;gesamte Stadt;Stand;15.06.2026\r\n\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[:3] == [["Schulungsquote", "gesamte Stadt", "Stand", "15.06.2026"], [], HEADER]
    assert rows[3:] == expected_people(listed)


def test_csv_writes_a_formula_like_scope_name_as_text():
    text = "".join(exports.people_csv([], scope_name="=1+1", today=TODAY))
    first = next(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert first[1] == "'=1+1"


def test_csv_is_streamed_in_whole_lines(listed):
    many = listed * 120  # 1080 rows: sent after every 500
    chunks = list(exports.people_csv(many, scope_name="gesamte Stadt", today=TODAY))
    assert chunks[0] == "\ufeff"
    assert [chunk.count("\r\n") for chunk in chunks[2:]] == [500, 500, 80]
    assert all(chunk.endswith("\r\n") for chunk in chunks[1:])


def test_xlsx_has_the_coverage_and_everyone_with_real_dates(db, listed, city):
    from openpyxl import load_workbook

    rows = coverage(
        db.session,
        departments=[city.a, city.b],
        scope_roots=None,
        today=TODAY,
        due_soon_days=DUE_SOON_DAYS,
    )
    content = exports.people_xlsx(
        listed, rows, scope_name="gesamte Stadt", today=TODAY, due_soon_days=DUE_SOON_DAYS
    )
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Schulungsquote", "Personen"]
    summary = [list(r) for r in workbook["Schulungsquote"].iter_rows(values_only=True)]
    assert summary[0][:4] == ["Schulungsquote", "gesamte Stadt", "Stand", datetime(2026, 6, 15)]
    assert summary[1][0].startswith(
        "Die Schulungsquote zählt alle mit gültigem Nachweis, auch wenn er bald fällig ist"
    )
    assert summary[2] == [
        "Pflichtschulung",
        "Organisationseinheit",
        "Im Geltungsbereich",
        "erfüllt",
        "bald fällig",
        "überfällig",
        "noch nicht fällig",
        "befreit",
        "Schulungsquote %",
        "davon fristgerecht %",
    ]
    # Herbst is due soon: covered, but not on time
    assert summary[3:] == [
        ["Basis", "Gesamt", 5, 1, 1, 3, 0, 1, 40, 20],
        ["Basis", "Dezernat I", 3, 1, 1, 1, 0, 1, 66.7, 33.3],
        ["Basis", "Dezernat II", 2, 0, 0, 2, 0, 0, 0, 0],
        ["Datenschutz", "Gesamt", 1, 1, 0, 0, 0, 0, 100, 100],
        ["Datenschutz", "Dezernat I", 1, 1, 0, 0, 0, 0, 100, 100],
        ["Erste Hilfe", "Gesamt", 2, 0, 0, 0, 2, 0, 0, 0],
        ["Erste Hilfe", "Dezernat II", 2, 0, 0, 0, 2, 0, 0, 0],
    ]
    sheet = workbook["Personen"]
    people_rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert people_rows[0] == HEADER
    as_text = [
        [*row[:6], *(value.strftime("%d.%m.%Y") if value else "" for value in row[6:])]
        for row in people_rows[1:]
    ]
    expected = expected_people(listed)
    # A date that never comes is left empty, not written as 31.12.9999 or as text.
    expected[7][6:] = ["", ""]
    assert as_text == expected
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert {cell.data_type for cell in cells if isinstance(cell.value, datetime)} == {"d"}
    formula = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert formula.data_type == "s"
    assert not any(
        c.data_type == "f" for ws in workbook.worksheets for r in ws.iter_rows() for c in r
    )


def pdf_text(content: bytes) -> tuple[str, object]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages), reader.metadata


def test_pdf_opens_with_the_coverage_and_the_people_to_act(db, listed, city):
    rows = coverage(
        db.session,
        departments=[city.a, city.a1, city.a2],
        scope_roots=[city.a],
        today=TODAY,
        due_soon_days=DUE_SOON_DAYS,
    )
    to_act = [p for p in listed if p.status in ("overdue", "due_soon")]
    content = exports.coverage_pdf(
        rows,
        to_act,
        scope_name="Dezernat I",
        city_name="Stadt Neu-Isenburg",
        today=TODAY,
        due_soon_days=DUE_SOON_DAYS,
    )
    assert content.startswith(b"%PDF")
    text, metadata = pdf_text(content)
    assert metadata.title == "Schulungsquote Dezernat I"
    assert metadata.author == "Stadt Neu-Isenburg"
    assert "Schulungsquote: Dezernat I" in text
    assert "Stadt Neu-Isenburg · Stand 15.06.2026" in text
    assert "66,7 %" in text and "50 %" in text  # Dezernat I, Amt für Bildung
    assert "davon fristgerecht" in text and "33,3 %" in text  # Herbst is due soon
    assert "auch wenn er bald fällig ist (innerhalb von 30 Tagen)" in " ".join(text.split())
    assert "Überfällig oder bald fällig" in text
    assert "Winter, Wim" in text and "Herbst, Hanna" in text and "25.06.2026" in text
    assert "Sommer" not in text and "weitere" not in text


def test_pdf_shows_no_percentage_where_nobody_is_in_scope(db, city):
    from app.reports.services import CoverageRow

    nobody = CoverageRow(city.b, city.first_aid, 0, 0, 0, 0, 0, 1, 0)
    text, _metadata = pdf_text(
        exports.coverage_pdf(
            [nobody], [], scope_name="Dezernat II", city_name="X", today=TODAY, due_soon_days=30
        )
    )
    assert "–" in text and "%" not in text


def test_pdf_names_a_limited_number_of_people(db, listed, monkeypatch):
    monkeypatch.setattr(exports, "PDF_PEOPLE_LIMIT", 2)
    content = exports.coverage_pdf(
        [], listed, scope_name="S", city_name="X", today=TODAY, due_soon_days=30
    )
    text, _metadata = pdf_text(content)
    assert "… und 7 weitere Personen." in text
    assert '=HYPERLINK("http://evil"), @Ann' in text and "Frühling" not in text


def test_dates_for_pages_and_files(db):
    assert exports.display_date(None) == ""
    assert exports.display_date(date(2026, 3, 1)) == "01.03.2026"
    assert exports.display_date(FOREVER) == "unbefristet"
    assert exports.display_date(FOREVER, "never") == "never"


def test_scope_and_status_labels(db, city):
    assert exports.scope_label(city.a1, [city.a1]) == "Amt für Bildung"
    assert exports.scope_label(None, [city.a1, city.b]) == "Amt für Bildung, Dezernat II"
    assert exports.scope_label(None, None) == "gesamte Stadt"
    assert exports.status_label("due_soon") == "bald fällig"
    assert [exports.safe_cell(v) for v in ("=1", "+1", "-1", "@x", "\tx", "x=1", "")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "x=1",
        "",
    ]

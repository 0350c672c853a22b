"""The import pages: upload → preview → confirm, errors in the user's language, mapping,
templates, limits; through the real worker when one is configured."""

from __future__ import annotations

import io
import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.core.roles import Role
from app.extensions import db
from app.imports.models import ImportRun
from app.staff.models import Department, Employee
from tests.conftest import csrf_token
from tests.imports.conftest import csv_bytes

HEADER = ["Personalnummer", "Vorname", "Nachname", "E-Mail", "Organisationseinheit"]
GOOD = [
    ["4711", "Jürgen", "Groß", "j.gross@stadt.example", "FB-51"],
    ["4712", "Ayşe", "Çelik", "a.celik@stadt.example", "FB-51"],
]


@pytest.fixture
def hr_client(client, login, make, celery_worker):
    make.department("FB-51", name="Kinderbetreuung")
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    return client


def upload(client, content: bytes, *, kind="staff", filename="personal.csv", full=False):
    data = {
        "csrf_token": csrf_token(client, "/imports/"),
        "kind": kind,
        "file": (io.BytesIO(content), filename),
    }
    if full:
        data["full_export"] = "y"
    return client.post("/imports/", data=data, content_type="multipart/form-data")


def settle(client, page: str) -> str:
    """Wait for the worker (if any) to finish the step; returns the page's HTML."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not client.get(f"{page}.json").get_json()["busy"]:
            break
        time.sleep(0.1)
    return client.get(page).get_data(as_text=True)


def post_action(client, page: str, action: str):
    return client.post(f"{page}/{action}", data={"csrf_token": csrf_token(client, page)})


def _staff() -> int:
    return db.session.scalar(select(func.count(Employee.id)))


def test_upload_preview_confirm(hr_client):
    response = upload(hr_client, csv_bytes([HEADER, *GOOD]))
    assert response.status_code == 302
    page = response.headers["Location"]

    html = settle(hr_client, page)
    assert "Vorschau: Es wurde noch nichts geändert." in html
    assert "2 neu" in html and "Çelik" in html
    assert _staff() == 0

    assert post_action(hr_client, page, "confirm").status_code == 302
    html = settle(hr_client, page)
    assert "Importiert am" in html
    assert _staff() == 2
    run = db.session.scalar(select(ImportRun))
    assert (run.status, run.created_count, run.uploader_name) == ("done", 2, "hr@stadt.example")
    assert run.confirmed_by.email == "hr@stadt.example"

    listing = hr_client.get("/imports/").get_data(as_text=True)
    assert "personal.csv" in listing and "importiert" in listing
    # confirming twice does nothing more
    post_action(hr_client, page, "confirm")
    assert _staff() == 2


def test_errors_are_listed_in_german_with_line_and_column(hr_client):
    rows = [HEADER, GOOD[0], ["4712", "Ayşe", "Çelik", "kaputt", "FB-99"]]
    page = upload(hr_client, csv_bytes(rows)).headers["Location"]

    html = settle(hr_client, page)
    assert "Die Datei hat 2 Probleme. Es wurde nichts importiert." in html
    assert "„kaputt“ ist keine gültige E-Mail-Adresse." in html
    assert "Es gibt keine Organisationseinheit mit dem Kürzel „FB-99“." in html
    assert '<td class="num">3</td><td>E-Mail</td>' in html
    assert "Korrigierte Datei hochladen" in html
    assert _staff() == 0


def test_errors_in_english_for_an_english_user(hr_client):
    hr_client.post(
        "/language", data={"locale": "en", "csrf_token": csrf_token(hr_client, "/imports/")}
    )
    page = upload(hr_client, csv_bytes([HEADER, ["1", "A", "B", "kaputt", "FB-51"]])).headers[
        "Location"
    ]
    assert "“kaputt” is not a valid e-mail address." in settle(hr_client, page)


def test_unknown_columns_are_assigned_in_the_page(hr_client):
    rows = [["PNR", "Vorname", "Nachname", "Kostenstelle"], ["4711", "Jürgen", "Groß", "FB-51"]]
    page = upload(hr_client, csv_bytes(rows)).headers["Location"]
    html = settle(hr_client, page)
    assert "Spalten zuordnen" in html and "PNR" in html

    response = hr_client.post(
        f"{page}/mapping",
        data={
            "csrf_token": csrf_token(hr_client, page),
            "column_0": "personnel_number",
            "column_1": "department",
        },
    )
    assert response.status_code == 302
    html = settle(hr_client, page)
    assert "1 neu" in html
    post_action(hr_client, page, "confirm")
    settle(hr_client, page)
    assert _staff() == 1


def test_discard_changes_nothing(hr_client):
    page = upload(hr_client, csv_bytes([HEADER, *GOOD])).headers["Location"]
    settle(hr_client, page)
    post_action(hr_client, page, "discard")

    assert db.session.scalar(select(ImportRun.status)) == "discarded"
    assert post_action(hr_client, page, "confirm").status_code == 302
    assert _staff() == 0


def test_a_file_of_100_mb_is_refused_and_the_server_stays_up(hr_client):
    big = b"x" * (100 * 1024 * 1024)
    response = upload(hr_client, big)

    assert response.status_code == 413
    assert "Die Datei ist zu groß" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ImportRun.id))) == 0
    assert hr_client.get("/imports/").status_code == 200


def test_a_file_over_the_import_limit_gets_a_message_at_the_field(app, hr_client, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_MB", 1)
    response = upload(hr_client, b"a;b\r\n" * 300_000)

    assert response.status_code == 200
    assert "größer als 1 MB" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Die Datei ist leer."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Das ist keine Tabelle"),
        (";".join(HEADER).encode(), "keine Datenzeilen"),
    ],
)
def test_bad_files_get_a_clear_message(hr_client, content, message):
    page = upload(hr_client, content, filename="datei.csv").headers["Location"]

    assert message in settle(hr_client, page)
    assert _staff() == 0


def test_templates_can_be_filled_in_and_imported(hr_client):
    blank = hr_client.get("/imports/blank/staff.xlsx")
    assert blank.status_code == 200
    workbook = load_workbook(io.BytesIO(blank.data))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:2] == ["Personalnummer", "Vorname"]
    sheet.append(["4711", "Jürgen", "Groß", "j.gross@stadt.example", "FB-51"])
    filled = io.BytesIO()
    workbook.save(filled)

    page = upload(hr_client, filled.getvalue(), filename="vorlage.xlsx").headers["Location"]
    assert "1 neu" in settle(hr_client, page)

    csv_blank = hr_client.get("/imports/blank/departments.csv")
    assert csv_blank.data.decode("utf-8-sig").startswith("OE-Nummer;Bezeichnung;")


def test_only_hr_and_admins_import(client, login, make, staff_user):
    login("erika@stadt.example")
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/blank/staff.csv").status_code == 403


def test_a_full_export_that_would_deactivate_many_is_flagged(hr_client, make):
    department = db.session.scalar(select(Department).where(Department.code == "FB-51"))
    for number in ("1", "2", "3"):
        make.employee(department, personnel_number=number)
    page = upload(hr_client, csv_bytes([HEADER, *GOOD]), full=True).headers["Location"]

    html = settle(hr_client, page)
    assert "Bitte prüfen: Diese Datei würde 3 von 3 aktiven Personen austragen." in html
    small = upload(hr_client, csv_bytes([HEADER, *GOOD]), full=False).headers["Location"]
    assert "Bitte prüfen" not in settle(hr_client, small)


def test_an_unknown_optional_column_can_be_assigned_from_the_preview(hr_client):
    rows = [[*HEADER, "Dienstbezeichnung"], [*GOOD[0], "Erzieher"]]
    page = upload(hr_client, csv_bytes(rows)).headers["Location"]
    html = settle(hr_client, page)
    assert "Vorschau" in html and "Dienstbezeichnung" in html

    hr_client.post(
        f"{page}/mapping",
        data={"csrf_token": csrf_token(hr_client, page), "column_0": "position"},
    )
    settle(hr_client, page)
    post_action(hr_client, page, "confirm")
    settle(hr_client, page)
    assert db.session.scalar(select(Employee.position)) == "Erzieher"


def test_people_without_an_entry_date_are_noted_in_the_preview_and_imported(hr_client):
    page = upload(hr_client, csv_bytes([HEADER, *GOOD])).headers["Location"]

    html = settle(hr_client, page)
    assert "Vorschau: Es wurde noch nichts geändert." in html
    assert html.count("Ohne Eintrittsdatum: gilt als beschäftigt seit dem ersten Import") == 2
    assert "Zeile 2" in html and "Zeile 3" in html

    post_action(hr_client, page, "confirm")
    settle(hr_client, page)
    assert _staff() == 2

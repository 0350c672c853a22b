"""Staff import: every accepted format, every error type, re-runs, leavers and moves."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.core.roles import Role
from app.courses.models import Enrolment
from app.courses.services.enrolment import enrol
from app.extensions import db
from app.staff.models import Employee
from tests.imports.conftest import TODAY, csv_bytes, problems, xlsx_bytes

HEADER = [
    "Personalnummer",
    "Vorname",
    "Nachname",
    "E-Mail",
    "Organisationseinheit",
    "Stelle",
    "Eintrittsdatum",
    "Austrittsdatum",
]
PEOPLE = [
    [
        "4711",
        "Jürgen",
        "Groß",
        "j.gross@stadt.example",
        "FB-51",
        "Sachbearbeitung; Kita",
        "01.03.2019",
        "",
    ],
    ["4712", "Ayşe", "Çelik", "a.celik@stadt.example", "FB-51", "Erzieherin", "15.08.2021", ""],
    [
        "4713",
        "Marija",
        "Kovačević",
        "m.kovacevic@stadt.example",
        "FB-32",
        "Hausmeisterin",
        "02.01.2024",
        "",
    ],
]


@pytest.fixture
def departments(make):
    city = make.department("STADT", name="Stadtverwaltung")
    return {
        "FB-51": make.department("FB-51", name="Kinderbetreuung", parent=city),
        "FB-32": make.department("FB-32", name="Bürgeramt", parent=city),
    }


def _people() -> dict[str, Employee]:
    return {e.personnel_number: e for e in db.session.scalars(select(Employee))}


def _count() -> int:
    return db.session.scalar(select(func.count(Employee.id)))


# --- formats ---------------------------------------------------------------------------------


def test_excel_csv_with_bom_crlf_quoted_semicolons_and_trailing_columns(importer, departments):
    rows = [[*HEADER, "", ""]] + [[*p, "", ""] for p in PEOPLE]
    applied = importer.run("staff", csv_bytes(rows))

    assert applied.created == 3
    people = _people()
    assert people["4711"].first_name == "Jürgen" and people["4711"].last_name == "Groß"
    assert people["4711"].position == "Sachbearbeitung; Kita"
    assert people["4711"].entry_date == date(2019, 3, 1)
    assert people["4712"].last_name == "Çelik" and people["4712"].first_name == "Ayşe"
    assert people["4713"].last_name == "Kovačević"
    assert people["4713"].department.code == "FB-32"


def test_windows_1252_csv_keeps_umlauts(importer, departments):
    rows = [HEADER] + [p for p in PEOPLE if p[0] != "4713"]  # č is not in Windows-1252
    rows = [[cell.replace("ş", "s") for cell in row] for row in rows]
    content = csv_bytes(rows, encoding="cp1252")
    assert "Groß".encode("cp1252") in content

    importer.run("staff", content)

    people = _people()
    assert people["4711"].last_name == "Groß"
    assert people["4712"].last_name == "Çelik"


def test_plain_utf8_csv_with_commas_and_english_headers(importer, departments):
    header = [
        "personnel_number",
        "first_name",
        "last_name",
        "email",
        "department",
        "position",
        "entry_date",
        "exit_date",
    ]
    rows = [header] + [[*p[:6], "2019-03-01", ""] for p in PEOPLE]
    importer.run("staff", csv_bytes(rows, delimiter=",", encoding="utf-8", newline="\n"))

    assert _people()["4713"].last_name == "Kovačević"
    assert _people()["4713"].entry_date == date(2019, 3, 1)


def test_xlsx_with_date_cells_and_numeric_personnel_numbers(importer, departments):
    rows = [
        HEADER,
        [4711, "Jürgen", "Groß", None, "FB-51", "Sachbearbeitung", date(2019, 3, 1), None],
    ]
    importer.run("staff", xlsx_bytes(rows))

    person = _people()["4711"]
    assert person.last_name == "Groß"
    assert person.entry_date == date(2019, 3, 1)
    assert person.email is None


def test_utf16_tab_separated_text_from_excel(importer, departments):
    text = "\t".join(HEADER) + "\r\n" + "\t".join(PEOPLE[2]) + "\r\n"
    importer.run("staff", text.encode("utf-16"))

    assert _people()["4713"].last_name == "Kovačević"


def test_headers_match_aliases_case_and_space_insensitively(importer, departments):
    header = [" PERSONAL-NR. ", "vorname", "NAME", "e-mail-adresse", "Abteilung"]
    importer.run("staff", csv_bytes([header, PEOPLE[0][:5]]))

    assert _people()["4711"].department.code == "FB-51"


def test_unknown_headers_ask_for_a_mapping_then_import(importer, departments):
    header = ["PNR", "Vorname", "Nachname", "Kostenstelle"]
    content = csv_bytes([header, ["4711", "Jürgen", "Groß", "FB-51"]])

    run = importer.check("staff", content)
    assert run.status == "mapping"
    assert set(run.report["unknown"]) == {"PNR", "Kostenstelle"}
    assert _count() == 0

    importer.run(
        "staff", content, mapping={"PNR": "personnel_number", "Kostenstelle": "department"}
    )
    assert _people()["4711"].department.code == "FB-51"


# --- errors: all or nothing -------------------------------------------------------------------


def test_each_row_error_is_reported_with_line_and_column_and_nothing_is_imported(
    importer, departments
):
    rows = [
        HEADER,
        PEOPLE[0],  # line 2: fine
        ["4720", "Anna", "Berg", "anna@", "FB-51", "", "01.01.2020", ""],  # 3: bad e-mail
        ["4721", "Ben", "Kurz", "", "FB-99", "", "", ""],  # 4: unknown department
        ["4711", "Jürgen", "Zwei", "", "FB-51", "", "", ""],  # 5: duplicate personnel number
        ["4722", "Cem", "Yıldız", "", "FB-51", "", "31.02.2020", ""],  # 6: bad date
        ["4723", "", "Leer", "", "FB-51", "", "", ""],  # 7: missing first name
        ["4724", "Dora", "Ende", "", "FB-51", "", "01.05.2020", "01.04.2020"],  # 8: exit < entry
    ]
    run = importer.check("staff", csv_bytes(rows))

    assert run.status == "invalid"
    assert problems(run) == [
        (3, "E-Mail", "bad_email"),
        (4, "Organisationseinheit", "unknown_department"),
        (5, "Personalnummer", "duplicate_personnel_number"),
        (6, "Eintrittsdatum", "bad_date"),
        (7, "Vorname", "required"),
        (8, "Austrittsdatum", "exit_before_entry"),
    ]
    assert run.report["problems"][2]["params"] == {"value": "4711", "first_line": 2}
    assert _count() == 0


def test_a_quoted_line_break_keeps_line_numbers_right(importer, departments):
    rows = [
        HEADER,
        [*PEOPLE[0][:5], "Leitung\nKita Nord", "", ""],
        ["4712", "X", "Y", "x@", "FB-51"],
    ]
    run = importer.check("staff", csv_bytes(rows))

    assert problems(run) == [(4, "E-Mail", "bad_email")]


def test_a_missing_required_column_is_named(importer, departments):
    run = importer.check("staff", csv_bytes([HEADER[:4], PEOPLE[0][:4]]))

    assert run.status == "invalid"
    assert problems(run) == [(None, "Organisationseinheit", "missing_column")]
    assert run.report["problems"][0]["params"] == {"column": "Organisationseinheit (department)"}


def test_an_error_in_the_last_row_of_a_long_file_imports_nothing(importer, departments):
    rows = [HEADER] + [
        [str(5000 + n), "Vor", f"Nach{n}", "", "FB-51", "", "", ""] for n in range(2500)
    ]
    rows.append(["9999", "Vor", "Nach", "", "FB-51", "", "kein Datum", ""])
    run = importer.check("staff", csv_bytes(rows))

    assert problems(run) == [(2502, "Eintrittsdatum", "bad_date")]
    assert _count() == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"\xef\xbb\xbf\r\n\r\n", "empty_file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary_file"),
        (bytes(range(256)) * 40, "binary_file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old_excel"),
        (b"PK\x03\x04" + b"garbage" * 50, "bad_xlsx"),
        (";".join(HEADER).encode() + b"\r\n", "no_rows"),
    ],
    ids=["empty", "blank-lines", "png", "random-bytes", "xls", "broken-xlsx", "header-only"],
)
def test_files_that_are_not_staff_lists_get_a_clear_message(importer, departments, content, code):
    run = importer.check("staff", content)

    assert run.status == "invalid"
    assert [p[2] for p in problems(run)] == [code]
    assert _count() == 0


def test_an_xlsx_that_unpacks_to_far_more_is_refused_unread(importer, departments, monkeypatch):
    import io
    import zipfile

    from app.imports import reading

    monkeypatch.setattr(reading, "MAX_XLSX_UNPACKED", 4 * 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (5 * 1024 * 1024))
    assert len(buffer.getvalue()) < 100 * 1024
    run = importer.check("staff", buffer.getvalue())

    assert problems(run) == [(None, None, "too_large")]


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil.example","Klick")', "@SUM(A1)", "+1+2"])
def test_a_formula_in_a_cell_is_refused(importer, departments, cell):
    for content in (
        csv_bytes([HEADER, ["4711", "Jürgen", cell, "", "FB-51", "", "", ""]]),
        xlsx_bytes([HEADER, ["4711", "Jürgen", cell, None, "FB-51"]]),
    ):
        run = importer.check("staff", content)
        assert problems(run) == [(2, "Nachname", "formula")]
    assert _count() == 0


# --- behaviour --------------------------------------------------------------------------------


def test_running_the_same_file_again_changes_nothing(importer, departments):
    content = csv_bytes([HEADER] + PEOPLE)
    importer.run("staff", content, full=True)
    stamps = {e.personnel_number: e.updated_at for e in _people().values()}

    run = importer.check("staff", content, full=True)
    assert run.report["counts"] == {"new": 0, "updated": 0, "deactivated": 0, "unchanged": 3}
    importer.apply(run)

    assert {e.personnel_number: e.updated_at for e in _people().values()} == stamps


def test_changes_are_previewed_field_by_field_then_applied(importer, departments):
    importer.run("staff", csv_bytes([HEADER] + PEOPLE))
    moved = [*PEOPLE[0]]
    moved[4], moved[5] = "FB-32", "Teamleitung"
    run = importer.check("staff", csv_bytes([HEADER, moved, PEOPLE[1], PEOPLE[2]]))

    assert run.report["counts"]["updated"] == 1
    assert run.report["updated"] == [
        {
            "key": "4711",
            "label": "Jürgen Groß",
            "changes": {
                "department": ["FB-51", "FB-32"],
                "position": ["Sachbearbeitung; Kita", "Teamleitung"],
            },
        }
    ]
    assert _people()["4711"].department.code == "FB-51"  # a preview changes nothing

    importer.apply(run)
    assert _people()["4711"].department.code == "FB-32"
    assert _people()["4711"].position == "Teamleitung"


def test_someone_missing_from_a_full_export_leaves_with_bookings_cancelled(
    importer, departments, make
):
    colleague_row = ["4714", "Kwame", "Mensah", "", "FB-32", "", "", ""]
    importer.run("staff", csv_bytes([HEADER, *PEOPLE, colleague_row]))
    leaver, colleague = _people()["4713"], _people()["4714"]
    login = make.user("m.kovacevic@stadt.example", employee=leaver)
    hr = make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    session = make.course_session(capacity=1, starts_in=timedelta(days=20))
    enrol(db.session, course_session=session, employee=leaver, actor=hr)
    enrol(db.session, course_session=session, employee=colleague, actor=hr)  # waiting list
    db.session.commit()

    stays = csv_bytes([HEADER, *PEOPLE[:2], colleague_row])
    partial = importer.check("staff", stays, full=False)
    assert partial.report["counts"]["deactivated"] == 0
    run = importer.check("staff", stays, full=True)
    assert run.report["deactivated"] == [
        {"key": "4713", "label": "Marija Kovačević", "reason": "missing"}
    ]
    applied = importer.apply(run)

    assert applied.deactivated == 1 and applied.cancelled_enrolments == 1
    assert db.session.get(Employee, leaver.id).active is False
    assert db.session.get(User, login.id).active is False
    statuses = {
        e.employee_id: e.status
        for e in db.session.scalars(select(Enrolment).where(Enrolment.session_id == session.id))
    }
    assert statuses == {leaver.id: "cancelled", colleague.id: "booked"}
    assert db.session.get(Employee, leaver.id) is not None  # kept, not deleted


def test_an_exit_date_that_has_passed_deactivates_and_a_future_one_does_not(importer, departments):
    importer.run("staff", csv_bytes([HEADER] + PEOPLE))
    leaving = [[*PEOPLE[0][:7], "28.11.2026"], [*PEOPLE[1][:7], "31.12.2026"], PEOPLE[2]]
    run = importer.check("staff", csv_bytes([HEADER] + leaving))

    assert [d["key"] for d in run.report["deactivated"]] == ["4711"]
    assert run.report["deactivated"][0]["reason"] == "exit_date"
    importer.apply(run)
    people = _people()
    assert people["4711"].active is False and people["4711"].exit_date == date(2026, 11, 28)
    assert people["4712"].active is True and people["4712"].exit_date == date(2026, 12, 31)


def test_someone_back_on_the_list_is_active_again(importer, departments):
    importer.run("staff", csv_bytes([HEADER] + PEOPLE))
    importer.run("staff", csv_bytes([HEADER] + PEOPLE[:2]), full=True)
    assert _people()["4713"].active is False

    run = importer.check("staff", csv_bytes([HEADER] + PEOPLE), full=True)
    assert run.report["updated"][0]["changes"] == {"active": [False, True]}
    importer.apply(run)
    assert _people()["4713"].active is True


def test_a_change_after_the_preview_is_shown_again_before_it_is_applied(importer, departments):
    importer.run("staff", csv_bytes([HEADER] + PEOPLE))
    run = importer.check("staff", csv_bytes([HEADER, [*PEOPLE[0][:5], "Neu", *PEOPLE[0][6:]]]))
    person = _people()["4711"]
    person.position = "Von Hand geändert"
    db.session.commit()

    assert importer.apply(run) is None
    db.session.refresh(run)
    assert run.status == "ready" and run.report["changed_since_preview"] is True
    assert _people()["4711"].position == "Von Hand geändert"


def test_exit_dates_are_checked_against_the_stored_entry_date(importer, departments):
    importer.run("staff", csv_bytes([HEADER] + PEOPLE))
    header = ["Personalnummer", "Vorname", "Nachname", "Organisationseinheit", "Austrittsdatum"]
    run = importer.check(
        "staff", csv_bytes([header, ["4711", "Jürgen", "Groß", "FB-51", "01.01.2000"]])
    )

    assert problems(run) == [(2, "Austrittsdatum", "exit_before_entry")]


def test_today_is_still_a_working_day(importer, departments):
    run = importer.check("staff", csv_bytes([HEADER, [*PEOPLE[0][:7], TODAY.strftime("%d.%m.%Y")]]))
    importer.apply(run)
    assert _people()["4711"].active is True


def test_applying_twice_imports_once(importer, departments):
    """A redelivered task (worker lost after the commit) finds the import done."""
    from app.imports import services

    run = importer.check("staff", csv_bytes([HEADER] + PEOPLE))
    assert importer.apply(run).created == 3
    assert services.apply(db.session, run.id, today=TODAY) is None
    assert services.check(db.session, run.id, today=TODAY) is None
    assert _count() == 3


# --- people without an entry date --------------------------------------------------------------


def _warnings(run) -> list[tuple]:
    return [(w["line"], w["column"], w["code"], w["params"]) for w in run.report["warnings"]]


def test_new_people_without_an_entry_date_are_noted_and_imported(importer, departments):
    without = [*PEOPLE[1][:6], "", ""]
    gone = ["4714", "Olaf", "Weg", "o.weg@stadt.example", "FB-32", "", "", "01.01.2026"]
    run = importer.check("staff", csv_bytes([HEADER, PEOPLE[0], without, gone]))

    assert run.status == "ready"
    # the leaver is out of scope: nothing counts from their entry
    assert _warnings(run) == [(3, "Eintrittsdatum", "no_entry_date_new", {})]
    assert run.report["warning_count"] == 1
    importer.apply(run)
    assert _people()["4712"].entry_date is None
    assert _people()["4712"].on_staff_since is not None


def test_a_file_without_an_entry_date_column_notes_everyone_new(importer, departments):
    header = ["Personalnummer", "Vorname", "Nachname", "Organisationseinheit"]
    rows = [[p[0], p[1], p[2], p[4]] for p in PEOPLE]
    run = importer.check("staff", csv_bytes([header, *rows]))

    assert run.status == "ready"
    assert [(line, column, code) for line, column, code, _ in _warnings(run)] == [
        (2, None, "no_entry_date_new"),
        (3, None, "no_entry_date_new"),
        (4, None, "no_entry_date_new"),
    ]


def test_people_whose_entry_date_stays_empty_are_noted_with_their_first_day(
    importer, departments, make
):
    make.employee(
        departments["FB-51"],
        personnel_number="4711",
        first_name="Jürgen",
        last_name="Groß",
        entry_date=None,
        on_staff_since=date(2025, 3, 1),
    )
    make.employee(
        departments["FB-51"],
        personnel_number="4712",
        first_name="Ayşe",
        last_name="Çelik",
        entry_date=date(2021, 8, 15),
        on_staff_since=date(2025, 3, 1),
    )
    make.employee(
        departments["FB-32"],
        personnel_number="4713",
        first_name="Marija",
        last_name="Kovačević",
        entry_date=None,
        on_staff_since=date(2025, 3, 1),
    )
    header = ["Personalnummer", "Vorname", "Nachname", "Organisationseinheit", "Eintrittsdatum"]
    rows = [
        ["4711", "Jürgen", "Groß", "FB-51", ""],  # empty, stays empty
        ["4712", "Ayşe", "Çelik", "FB-51", ""],  # emptied by the file
        ["4713", "Marija", "Kovačević", "FB-32", "02.01.2024"],  # filled in by the file
    ]
    run = importer.check("staff", csv_bytes([header, *rows]))

    assert run.status == "ready"
    assert _warnings(run) == [
        (2, "Eintrittsdatum", "no_entry_date", {"date": "2025-03-01"}),
        (3, "Eintrittsdatum", "no_entry_date", {"date": "2025-03-01"}),
    ]
    # a file without the column leaves entry dates as they are: the one still missing is noted
    importer.apply(run)
    header = ["Personalnummer", "Vorname", "Nachname", "Organisationseinheit"]
    run = importer.check("staff", csv_bytes([header, *[row[:4] for row in rows]]))
    assert [(line, code) for line, _, code, _ in _warnings(run)] == [
        (2, "no_entry_date"),
        (3, "no_entry_date"),
    ]


def test_the_note_on_a_missing_entry_date_reads_in_german(app):
    from flask_babel import force_locale

    from app.imports.messages import describe

    with app.test_request_context(), force_locale("de"):
        assert describe("no_entry_date", {"date": "2025-03-01"}) == (
            "Ohne Eintrittsdatum: gilt als beschäftigt seit dem ersten Import, der die Person "
            "gebracht hat (für diese Person: 01.03.2025). Fristen ab Eintritt beginnen dann."
        )
        assert describe("no_entry_date_new").startswith(
            "Ohne Eintrittsdatum: gilt als beschäftigt seit dem ersten Import"
        )

"""``flask import-staff|import-departments|import-completions FILE``: dry run, mapping, errors."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.imports.models import ImportRun
from app.staff.models import Department, Employee
from tests.imports.conftest import csv_bytes, xlsx_bytes

HEADER = ["Personalnummer", "Vorname", "Nachname", "Organisationseinheit"]


def _invoke(app, *args):
    db.session.commit()
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.expire_all()
    return result


def _staff() -> int:
    return db.session.scalar(select(func.count(Employee.id)))


def test_dry_run_shows_the_changes_and_writes_nothing(app, make, tmp_path):
    make.department("FB-51")
    path = tmp_path / "personal.csv"
    path.write_bytes(csv_bytes([HEADER, ["4711", "Jürgen", "Groß", "FB-51"]]))

    result = _invoke(app, "import-staff", str(path), "--dry-run", "--language", "en")

    assert result.exit_code == 0, result.output
    assert "1 rows: 1 new, 0 updated, 0 deactivated, 0 unchanged." in result.output
    assert "Dry run: nothing was changed." in result.output
    assert _staff() == 0
    run = db.session.scalar(select(ImportRun))
    assert (run.filename, run.status, run.uploaded_by_label[:4]) == (
        "personal.csv",
        "discarded",
        "CLI ",
    )


def test_import_then_again_is_idempotent(app, make, tmp_path):
    make.department("FB-51")
    path = tmp_path / "personal.xlsx"
    path.write_bytes(xlsx_bytes([HEADER, [4711, "Jürgen", "Groß", "FB-51"]]))

    first = _invoke(app, "import-staff", str(path), "--language", "en")
    second = _invoke(app, "import-staff", str(path), "--language", "en")

    assert "Imported: 1 new, 0 updated, 0 deactivated." in first.output
    assert "1 rows: 0 new, 0 updated, 0 deactivated, 1 unchanged." in second.output
    assert _staff() == 1


def test_errors_are_listed_with_line_and_column_and_the_exit_code_is_1(app, make, tmp_path):
    path = tmp_path / "personal.csv"
    path.write_bytes(csv_bytes([HEADER, ["4711", "Jürgen", "Groß", "FB-99"]]))

    result = _invoke(app, "import-staff", str(path))

    assert result.exit_code == 1
    assert "1 Problem; es wurde nichts importiert:" in result.stderr
    assert (
        "Zeile 2, Spalte „Organisationseinheit“: Es gibt keine Organisationseinheit mit dem "
        "Kürzel „FB-99“." in result.stderr
    )
    assert _staff() == 0


def test_unknown_columns_are_mapped_with_map(app, tmp_path):
    path = tmp_path / "oe.csv"
    path.write_bytes(csv_bytes([["Schlüssel", "Langtext"], ["D-1", "Dezernat I"]]))

    unmapped = _invoke(app, "import-departments", str(path), "--language", "en")
    assert unmapped.exit_code == 1
    assert "Columns the product does not know: Schlüssel, Langtext" in unmapped.output

    mapped = _invoke(
        app, "import-departments", str(path), "--map", "Schlüssel=code", "--map", "langtext=name"
    )
    assert mapped.exit_code == 0, mapped.output + mapped.stderr
    assert db.session.scalar(select(Department.name)) == "Dezernat I"


def test_a_bad_map_option_is_a_usage_error(app, tmp_path):
    path = tmp_path / "oe.csv"
    path.write_bytes(b"Code;Name\r\nA;B\r\n")

    result = _invoke(app, "import-departments", str(path), "--map", "nonsense")

    assert result.exit_code == 2
    assert "Spalte=field" in result.stderr

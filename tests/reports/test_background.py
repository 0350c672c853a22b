"""Exports built by the background task: the finished file, its progress, failures, reruns."""

from __future__ import annotations

import csv
import io

import pytest

from app.core.roles import Role
from app.reports import background, exports
from app.reports.models import ReportFile
from tests.reports.conftest import DUE_SOON_DAYS, TODAY


def build(db, report_id):
    background.build_export(db.session, report_id, today=TODAY, due_soon_days=DUE_SOON_DAYS)


def requested(db, user, department=None, file_format="csv") -> int:
    report = background.request_export(
        db.session, user=user, department=department, file_format=file_format
    )
    db.session.commit()
    assert report.status == "queued" and report.progress == 0 and report.token
    return report.id


def csv_people(content: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    return rows[3:]


def test_hr_gets_the_whole_city_as_csv(db, city, hr):
    report_id = requested(db, hr)
    build(db, report_id)
    report = db.session.get(ReportFile, report_id)
    assert (report.status, report.progress, report.error) == ("done", 100, "")
    assert report.filename == "schulungsquote-gesamt-2026-06-15.csv"
    assert report.finished_at is not None
    names = sorted((row[1], row[4]) for row in csv_people(report.content))
    assert names == [
        ("Frühling", "Basis"),
        ("Herbst", "Basis"),
        ("Regen", "Basis"),
        ("Regen", "Erste Hilfe"),
        ("Sommer", "Basis"),
        ("Winter", "Basis"),
    ]


def test_a_head_gets_the_department_they_asked_for_as_xlsx(db, make, city):
    from openpyxl import load_workbook

    head = make.user(roles=(Role.EMPLOYEE, Role.HEAD), heads=(city.a,))
    report_id = requested(db, head, department=city.a1, file_format="xlsx")
    build(db, report_id)
    report = db.session.get(ReportFile, report_id)
    assert report.filename == "schulungsquote-A1-2026-06-15.xlsx"
    workbook = load_workbook(io.BytesIO(report.content), read_only=True)
    people_rows = list(workbook["Personen"].iter_rows(values_only=True))[1:]
    assert sorted(row[1] for row in people_rows) == ["Sommer", "Winter"]
    summary = list(workbook["Schulungsquote"].iter_rows(values_only=True))[3:]
    # A chosen department's own row is its total: no extra total row.
    assert [row[1] for row in summary] == ["Amt für Bildung", "Schule am Park"]


def test_progress_climbs_with_the_rows_written(db, city, hr, monkeypatch):
    monkeypatch.setattr(background, "PROGRESS_EVERY", 2)
    written: list[int] = []
    original = background._write_progress

    def spy(db_session, report_id, percent):
        written.append(percent)
        original(db_session, report_id, percent)

    monkeypatch.setattr(background, "_write_progress", spy)
    report_id = requested(db, hr)
    build(db, report_id)
    # Six rows, reported every two; never 100 before the file is stored.
    assert written == [33, 66, 99]
    assert db.session.get(ReportFile, report_id).progress == 100


def test_a_failed_build_says_why_and_raises_for_a_retry(db, city, hr, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "people_csv", broken)
    report_id = requested(db, hr)
    with pytest.raises(RuntimeError):
        build(db, report_id)
    db.session.expire_all()
    report = db.session.get(ReportFile, report_id)
    assert (report.status, report.error, report.content) == ("failed", "RuntimeError", None)


def test_a_finished_file_is_not_built_again(db, city, hr, monkeypatch):
    report_id = requested(db, hr)
    build(db, report_id)
    finished = db.session.get(ReportFile, report_id)
    content, finished_at = finished.content, finished.finished_at

    def must_not_run(*args, **kwargs):
        raise AssertionError("built twice")

    monkeypatch.setattr(exports, "people_csv", must_not_run)
    build(db, report_id)
    again = db.session.get(ReportFile, report_id)
    assert (again.status, again.content, again.finished_at) == ("done", content, finished_at)
    build(db, report_id + 1000)  # gone meanwhile: nothing to do


def test_the_pdf_names_only_those_who_need_to_act(db, city):
    from pypdf import PdfReader

    filename, content = background.export_content(
        db.session,
        department=None,
        roots=[city.a],
        rows_for=[city.a, city.a1, city.a2],
        file_format="pdf",
        today=TODAY,
        due_soon_days=DUE_SOON_DAYS,
        city_name="Stadt Neu-Isenburg",
    )
    assert filename == "schulungsquote-gesamt-2026-06-15.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "Schulungsquote: Dezernat I" in text
    assert "Winter, Wim" in text and "Herbst, Hanna" in text
    assert "Sommer" not in text and "Frühling" not in text and "Regen" not in text


def test_the_scope_size_counts_active_staff(db, city):
    assert background.scope_size(db.session, None) == 5
    assert background.scope_size(db.session, [city.a]) == 4
    assert background.scope_size(db.session, [city.a1, city.b]) == 3  # not the inactive one
    assert background.scope_size(db.session, []) == 0

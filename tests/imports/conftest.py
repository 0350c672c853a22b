"""Helpers of the import tests: files made in the test, and an import run start to finish."""

from __future__ import annotations

import io
from datetime import date

import pytest

from app.extensions import db
from app.imports import services
from app.imports.models import ImportRun

TODAY = date(2026, 11, 29)


def csv_bytes(
    rows: list[list[str]], *, delimiter=";", encoding="utf-8-sig", newline="\r\n"
) -> bytes:
    """A CSV as Excel writes it: every field quoted only where needed."""
    import csv

    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class Importer:
    """Runs the services as the CLI does: record, check, and (when asked) confirm and apply."""

    def check(self, kind: str, content: bytes, *, full: bool = False, mapping=None, today=TODAY):
        run = services.record_upload(
            db.session,
            kind=kind,
            filename=f"test.{kind}",
            content=content,
            full_export=full,
            mapping=mapping,
            label="test",
        )
        run_id = run.id
        db.session.commit()
        services.check(db.session, run_id, today=today)
        return db.session.get(ImportRun, run_id)

    def apply(self, run: ImportRun, *, today=TODAY):
        services.confirm(db.session, run, None)
        db.session.commit()
        applied = services.apply(db.session, run.id, today=today)
        db.session.expire_all()
        return applied

    def run(self, kind: str, content: bytes, **kwargs):
        """Check and apply; the file must be free of problems."""
        run = self.check(kind, content, **kwargs)
        assert run.status == "ready", run.report.get("problems")
        applied = self.apply(run, today=kwargs.get("today", TODAY))
        assert applied is not None
        return applied


@pytest.fixture
def importer(db):
    return Importer()


def problems(run: ImportRun) -> list[tuple]:
    """(line, column, code) of each problem, as the report lists them."""
    return [(p["line"], p["column"], p["code"]) for p in run.report["problems"]]

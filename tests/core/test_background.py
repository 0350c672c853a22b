"""Starting a background task from a request: committed first; a refused start is told."""

from __future__ import annotations

from app.core.background import commit_and_start
from app.imports import services as imports
from app.imports.models import ImportRun
from app.reports import background as exports
from app.reports.models import ReportFile


class Refused:
    """A task whose broker does not answer."""

    name = "refused"

    def delay(self, row_id: int) -> None:
        raise ConnectionError("Redis is down")


class Started:
    name = "started"

    def __init__(self) -> None:
        self.started: list[int] = []

    def delay(self, row_id: int) -> None:
        self.started.append(row_id)


def test_a_started_task_finds_its_row_committed(db):
    run = imports.record_upload(db.session, kind="staff", filename="p.csv", content=b"x")
    run_id = run.id
    task = Started()

    assert commit_and_start(db.session, task, run_id, on_refused=imports.fail_unstarted)

    assert task.started == [run_id]
    db.session.rollback()  # nothing left to roll back: the row was committed before the start
    assert db.session.get(ImportRun, run_id).status == "queued"


def test_an_import_that_cannot_start_says_so(db):
    run = imports.record_upload(db.session, kind="staff", filename="p.csv", content=b"x")
    run_id = run.id

    assert not commit_and_start(db.session, Refused(), run_id, on_refused=imports.fail_unstarted)

    db.session.expire_all()
    found = db.session.get(ImportRun, run_id)
    assert (found.status, found.error) == ("failed", "not started")


def test_an_export_that_cannot_start_says_so(db, hr):
    report = exports.request_export(db.session, user=hr, department=None, file_format="csv")
    report_id = report.id

    assert not commit_and_start(db.session, Refused(), report_id, on_refused=exports.fail_unstarted)

    db.session.expire_all()
    found = db.session.get(ReportFile, report_id)
    assert (found.status, found.error) == ("failed", "broker unavailable")

"""The page of a background export: it follows the work while it runs and then stays still."""

from __future__ import annotations

from app.reports.models import ReportFile
from tests.reports.test_background import build, requested


def test_a_finished_export_page_stops_reloading_itself(db, client, login, city, hr):
    report_id = requested(db, hr)
    token = db.session.get(ReportFile, report_id).token
    login("hr@stadt.example")

    pending = client.get(f"/reports/exports/{token}").get_data(as_text=True)
    assert "data-progress-url" in pending and "progress.js" in pending

    build(db, report_id)
    db.session.commit()
    finished = client.get(f"/reports/exports/{token}").get_data(as_text=True)
    assert "Die Datei ist fertig" in finished
    # Nothing on the page polls or reloads it (a reload restarts screen readers).
    assert "data-progress-url" not in finished and "progress.js" not in finished


def test_an_export_and_its_page_are_not_kept_in_caches(db, client, login, city, hr):
    report_id = requested(db, hr)
    token = db.session.get(ReportFile, report_id).token
    build(db, report_id)
    db.session.commit()
    login("hr@stadt.example")

    for path in (
        f"/reports/exports/{token}",
        f"/reports/exports/{token}/download",
        "/reports/people.csv",
        "/reports/people",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers.get("Cache-Control", ""), path
    # Static files carry nothing personal and may stay cached.
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")

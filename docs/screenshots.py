"""Take the README's screenshots: a fresh demo city, served locally, photographed in Chromium.

make screenshots        (writes docs/screenshots/*.png)
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
SHOTS = [
    # (file, login, path)
    ("employee-start.png", "mehmet.yilmaz@neu-isenburg.example", "/"),
    ("employee-dates.png", "mehmet.yilmaz@neu-isenburg.example", "/courses/"),
    ("head-coverage.png", "dragana.petrovic@neu-isenburg.example", "/reports/coverage"),
    ("hr-coverage.png", "personal@neu-isenburg.example", "/reports/coverage"),
    ("hr-requirements.png", "personal@neu-isenburg.example", "/requirements/"),
    ("hr-import-preview.png", "personal@neu-isenburg.example", "{import_preview}"),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/screens.db"
        os.environ.pop("REDIS_URL", None)
        from flask_migrate import upgrade
        from werkzeug.serving import make_server

        from app import create_app
        from app.demo import DEMO_PASSWORD, seed_demo_city
        from app.extensions import db

        app = create_app()
        with app.app_context():
            upgrade()
            seed_demo_city(db.session)
            db.session.commit()
            paths = {"import_preview": next_months_staff_import(db.session)}
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            shoot(f"http://127.0.0.1:{server.server_port}", DEMO_PASSWORD, paths)
        finally:
            server.shutdown()


def next_months_staff_import(db_session) -> str:
    """Check (not apply) next month's staff export of the demo city: everyone on staff, two
    new people, one who moved, one who left; returns the preview's path."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from app.imports import services
    from app.staff.models import Department, Employee

    rows = [
        [e.personnel_number, e.first_name, e.last_name, e.email or "", code, e.position or ""]
        for e, code in db_session.execute(
            select(Employee, Department.code)
            .join(Department, Department.id == Employee.department_id)
            .where(Employee.active.is_(True))
            .order_by(Employee.personnel_number)
        )
    ]
    codes = sorted({row[4] for row in rows})
    rows[3][4] = next(code for code in codes if code != rows[3][4])  # moved
    left = (date.today() - timedelta(days=2)).strftime("%d.%m.%Y")
    rows = [[*row, ""] for row in rows]
    rows[7][6] = left
    rows.append(
        ["200001", "Zeynep", "Kaya", "zeynep.kaya@neu-isenburg.example", codes[2], "Erzieherin", ""]
    )
    rows.append(["200002", "Tomasz", "Wiśniewski", "", codes[5], "Hausmeister", ""])
    header = "Personalnummer;Vorname;Nachname;E-Mail;Organisationseinheit;Stelle;Austrittsdatum"
    text = header + "\r\n" + "".join(";".join(row) + "\r\n" for row in rows)
    run = services.record_upload(
        db_session,
        kind="staff",
        filename="personal-dezember.csv",
        content=("\ufeff" + text).encode(),
        full_export=True,
        label="HR",
    )
    run_id, token = run.id, run.token
    db_session.commit()
    services.check(db_session, run_id, today=date.today())
    return f"/imports/{token}"


def shoot(base_url: str, password: str, paths: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, login, path in SHOTS:
            context = browser.new_context(
                base_url=base_url, viewport={"width": 1200, "height": 860}
            )
            page = context.new_page()
            page.goto("/auth/login")
            page.get_by_label("E-Mail-Adresse").fill(login)
            page.get_by_label("Passwort").fill(password)
            page.get_by_role("button", name="Anmelden").click()
            page.goto(path.format(**paths))
            page.screenshot(path=str(OUT / name))
            context.close()
            print(f"wrote docs/screenshots/{name}")
        browser.close()


if __name__ == "__main__":
    main()

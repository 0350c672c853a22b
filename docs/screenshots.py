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
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            shoot(f"http://127.0.0.1:{server.server_port}", DEMO_PASSWORD)
        finally:
            server.shutdown()


def shoot(base_url: str, password: str) -> None:
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
            page.goto(path)
            page.screenshot(path=str(OUT / name))
            context.close()
            print(f"wrote docs/screenshots/{name}")
        browser.close()


if __name__ == "__main__":
    main()

"""The real app served on a local port, driven by Debian's Chromium through Playwright.

The server runs the suite's app in a thread (same database, so data the tests commit is there).
Chromium comes from the system (``/usr/bin/chromium``, installed by ``make test``); Playwright
never downloads a browser here.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(app):
    """The app on 127.0.0.1 and a free port, for the whole session."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live_server, db):
    # Reading an attribute after a commit would open a transaction, and on SQLite an open
    # transaction holds the lock the served app needs: keep committed objects as they are.
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    context = browser.new_context(base_url=live_server, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()
    session.expire_on_commit = expire_on_commit


@pytest.fixture
def log_in(page, db):
    """Log in through the form as a person would, reading labels, not ids."""

    def _log_in(email: str, password: str):
        db.session.commit()  # the test's own transaction must not hold the database
        page.goto("/auth/login")
        page.get_by_label("E-Mail-Adresse").fill(email)
        page.get_by_label("Passwort").fill(password)
        page.get_by_role("button", name="Anmelden").click()

    return _log_in

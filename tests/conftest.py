"""Shared fixtures: one app per test run, clean tables per test, a real worker when configured.

Without TEST_DATABASE_URL / TEST_REDIS_URL the suite runs on a SQLite file with in-process
tasks; with them, on PostgreSQL with a Celery worker consuming from Redis in this process.
Tests commit their data (a worker or a second connection cannot see an open transaction),
so every test starts from empty tables instead of a rolled-back transaction.
"""

from __future__ import annotations

import contextvars
import re
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from psycopg.errors import DeadlockDetected
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.core.roles import Role
from app.extensions import db as _db
from app.extensions import limiter
from config import TestConfig
from tests import factories


class IsolatedClient(FlaskClient):
    """A test client whose requests run in their own app context, as in production.

    Flask reuses an app context that is already pushed, so without this every request of a
    test would share the test's ``g`` and database session. The test's own transaction is
    committed first: on SQLite an open transaction would hold the write lock.
    """

    def open(self, *args, **kwargs):
        _db.session.commit()
        kwargs.setdefault("buffered", True)  # a streamed body is read inside that context too
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app():
    uri = TestConfig.SQLALCHEMY_DATABASE_URI
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = create_app(TestConfig)
    app.test_client_class = IsolatedClient
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            _reset_postgres_schema()
        upgrade()  # the schema comes from the migrations, as in production
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def celery_worker(app):
    """A real Celery worker thread on the Redis broker, or None when tasks run in-process."""
    if not app.config.get("REDIS_URL"):
        yield None
        return
    from celery.contrib.testing.worker import start_worker

    celery_app = app.extensions["celery"]
    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield celery_app


@pytest.fixture(autouse=True)
def db(app):
    """An app context with empty tables; everything a test committed is deleted afterwards."""
    with app.app_context():
        limiter.reset()
        # A test that builds another app makes that app's Celery the default; undo it.
        app.extensions["celery"].set_default()
        if "page_cache" in app.extensions:  # parts of pages kept in Redis by an earlier test
            app.extensions["page_cache"].clear()
        yield _db
        _db.session.rollback()
        _clear_tables()
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(db):
    """Factories bound to the test database: ``make.employee(...)``, ``make.user(...)``."""
    return factories


@pytest.fixture
def login(client):
    """Log a user in through the real login form; returns the response."""

    def _login(email: str, password: str = factories.DEFAULT_PASSWORD, **extra):
        token = csrf_token(client, "/auth/login")
        data = {"email": email, "password": password, "csrf_token": token, **extra}
        return client.post("/auth/login", data=data, follow_redirects=False)

    return _login


def csrf_token(client, path: str) -> str:
    """The CSRF token of the form on ``path``, as a browser would submit it."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _clear_tables() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        for attempt in range(5):
            try:
                _db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                break
            except OperationalError as error:
                # A task still running on the suite's worker reads tables while TRUNCATE locks
                # them one by one; PostgreSQL ends one of the two. Let the task finish, retry.
                if not isinstance(error.orig, DeadlockDetected) or attempt == 4:
                    raise
                _db.session.rollback()
                time.sleep(0.2)
    else:
        # Departments point at their parents; the checks pass once every row is gone.
        _db.session.execute(text("PRAGMA defer_foreign_keys = ON"))
        # The audit log's triggers refuse DELETE (it is append-only); PostgreSQL's TRUNCATE
        # fires no row trigger, SQLite's DELETE does, so they step aside while the test's rows go.
        triggers = _db.session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _sql in triggers:
            _db.session.execute(text(f'DROP TRIGGER "{name}"'))
        for table in tables:
            _db.session.execute(table.delete())
        for _name, sql in triggers:
            _db.session.execute(text(sql))
    _db.session.commit()


def _reset_postgres_schema() -> None:
    with _db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def hr(make):
    return make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)


@pytest.fixture
def staff_user(make):
    """An employee with a login: acts for themself only."""
    return make.user("erika@stadt.example")

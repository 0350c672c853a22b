"""Application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from config import DEFAULT_SECRET_KEY, Config


def create_app(config_class: type = Config) -> Flask:
    """Build the web app (and its Celery app) from a configuration class."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.from_object(config_class)
    _use_a_secret_key(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy the client address (for login throttling) and the scheme
        # (for secure cookies and redirects) come from its X-Forwarded-* headers.
        hops = app.config["TRUSTED_PROXIES"]
        # Flask's documented way to wrap its WSGI app, which mypy takes for a method reassigned.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from app.extensions import babel, csrf, db, limiter, login_manager, migrate, select_locale

    _deliver_outbox_after_commit(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    from app.core import page_cache

    page_cache.init_app(app, db.session)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            from app.core.connections import configure_postgresql

            configure_postgresql(db.engine)

    _import_models()
    from app.core.audit_trail import register_audit_trail

    register_audit_trail()

    from app.tasks_app import celery_init_app

    celery_init_app(app)
    _import_tasks()
    from app.notifications.tasks import deliver_outbox

    app.extensions["outbox_kick"] = deliver_outbox.delay
    from app.requirements.tasks import rebuild_coverage

    app.extensions["coverage_rebuild_kick"] = rebuild_coverage.delay

    from app.core.input import register_input_checks

    register_input_checks(app)  # before the blueprints: their routes use its <int:…>

    from app import (
        auth,
        courses,
        imports,
        main,
        notifications,
        privacy,
        reports,
        requirements,
        staff,
    )
    from app.auth import views as _auth_views  # noqa: F401
    from app.courses import admin_views as _courses_admin_views  # noqa: F401
    from app.courses import views as _courses_views  # noqa: F401
    from app.imports import views as _import_views  # noqa: F401
    from app.main import views as _main_views  # noqa: F401
    from app.notifications import paper_views as _notification_paper_views  # noqa: F401
    from app.notifications import views as _notification_views  # noqa: F401
    from app.privacy import data_views as _privacy_data_views  # noqa: F401
    from app.privacy import views as _privacy_views  # noqa: F401
    from app.reports import council_views as _council_views  # noqa: F401
    from app.reports import views as _report_views  # noqa: F401
    from app.requirements import views as _requirement_views  # noqa: F401
    from app.staff import views as _staff_views  # noqa: F401

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(staff.bp, url_prefix="/staff")
    app.register_blueprint(courses.bp, url_prefix="/courses")
    app.register_blueprint(reports.bp, url_prefix="/reports")
    app.register_blueprint(notifications.bp, url_prefix="/notifications")
    app.register_blueprint(requirements.bp, url_prefix="/requirements")
    app.register_blueprint(imports.bp, url_prefix="/imports")
    app.register_blueprint(privacy.bp, url_prefix="/privacy")
    from app.api.setup import init_api

    init_api(app)

    from app.core.errors import register_error_handlers
    from app.core.formatting import register_formatting
    from app.core.paging import register_paging
    from app.core.security import register_security_headers

    register_formatting(app)
    register_paging(app)
    register_error_handlers(app)
    register_security_headers(app)

    from app.cli import register_cli

    register_cli(app)
    return app


def _use_a_secret_key(app: Flask) -> None:
    """Production needs a configured SECRET_KEY; elsewhere, without one, the app uses a random
    key of its own in ``instance/`` (never the public default: a forged cookie gives admin)."""
    if app.config["SECRET_KEY"] not in (DEFAULT_SECRET_KEY, "", None):
        return
    if app.config.get("APP_ENV") == "production":
        raise RuntimeError(
            "APP_ENV=production needs a SECRET_KEY of its own (set the SECRET_KEY environment "
            "variable, e.g. to `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    from app.core.security import instance_secret_key

    app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


def _configure_sqlite(engine) -> None:
    """Real transactions on SQLite: BEGIN IMMEDIATE, WAL, a busy timeout and foreign keys.

    Python's sqlite3 in its legacy mode begins no transaction on SELECT, so a read-check-write
    could interleave with another writer. SQLAlchemy's recipe hands transaction control to us.
    """

    from app.core.sql import sqlite_add_months, sqlite_berlin_month

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        # SQLite's lower() folds ASCII only; names like Öztürk must match "öztürk" as on PostgreSQL.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        # Month arithmetic that clamps at a month's end, as on PostgreSQL (core.sql.add_months).
        dbapi_connection.create_function("add_months", 2, sqlite_add_months, deterministic=True)
        dbapi_connection.create_function("berlin_month", 1, sqlite_berlin_month, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _deliver_outbox_after_commit(app: Flask) -> None:
    """Outbox rows committed in a request, task or command are sent when its context ends."""
    from app.core.outbox import deliver_when_done, note_commit
    from app.extensions import db

    # Registered before db.init_app: teardowns run in reverse, so this one runs after the
    # session is closed and its connection is back in the pool.
    app.teardown_appcontext(deliver_when_done)
    from app.requirements.facts import start_queued_rebuilds

    app.teardown_appcontext(start_queued_rebuilds)
    if not event.contains(db.session, "after_commit", note_commit):
        event.listen(db.session, "after_commit", note_commit)


def _import_models() -> None:
    from app.api import models as _api  # noqa: F401
    from app.auth import models as _auth  # noqa: F401
    from app.core import audit as _audit  # noqa: F401
    from app.core import models as _core  # noqa: F401
    from app.courses import models as _courses  # noqa: F401
    from app.imports import models as _imports  # noqa: F401
    from app.notifications import models as _notifications  # noqa: F401
    from app.privacy import models as _privacy  # noqa: F401
    from app.reports import models as _reports  # noqa: F401
    from app.requirements import models as _requirements  # noqa: F401
    from app.staff import models as _staff  # noqa: F401


def _import_tasks() -> None:
    from app.api import tasks as _api_tasks  # noqa: F401
    from app.core import tasks as _core_tasks  # noqa: F401
    from app.courses import tasks as _course_tasks  # noqa: F401
    from app.imports import tasks as _import_tasks  # noqa: F401
    from app.notifications import tasks as _notification_tasks  # noqa: F401
    from app.privacy import tasks as _privacy_tasks  # noqa: F401
    from app.reports import tasks as _report_tasks  # noqa: F401
    from app.requirements import tasks as _requirement_tasks  # noqa: F401

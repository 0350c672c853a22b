"""Configuration read from the environment, with embedded defaults for a one-command start.

Without ``DATABASE_URL`` the app uses a SQLite file in ``instance/``; without ``REDIS_URL`` Celery
tasks run in-process and rate limits live in memory; without ``MAIL_SERVER`` mail goes to a folder.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent
#: The public key earlier versions used when none was configured: treated as none (outside
#: production the app then makes a random key in ``instance/``), refused in production.
DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key"


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgres://`` / ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def celery_settings(redis_url: str | None) -> dict:
    """Celery settings: a Redis broker when ``redis_url`` is set, in-process tasks otherwise."""
    settings: dict = {
        "task_ignore_result": True,
        # A task is acknowledged only after it ran, and given back when its worker dies,
        # so a killed worker loses nothing (tasks are idempotent, so a rerun is harmless).
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "timezone": "Europe/Berlin",
        "beat_schedule": {
            "worker-heartbeat": {"task": "core.record_heartbeat", "schedule": 300.0},
            # The sweep that sends whatever the outbox holds (e.g. after Redis was down).
            "deliver-outbox": {"task": "notifications.deliver_outbox", "schedule": 60.0},
            "session-reminders": {
                "task": "notifications.scan_session_reminders",
                "schedule": 3600.0,
            },
            # Due-soon and overdue reminders, escalations and the weekly head digest; each
            # message has a key, so running the scan more often sends nothing twice.
            # The trend chart's data: coverage of every department, on the 1st of each month.
            "coverage-snapshot": {
                "task": "reports.take_coverage_snapshot",
                "schedule": crontab(minute=30, hour=2, day_of_month=1),
            },
            # Seat counters against the bookings of future dates (courses.services.seats).
            "seat-count-check": {
                "task": "courses.check_seat_counts",
                "schedule": crontab(minute=15, hour=3),
            },
            # Coverage facts: rebuilds that are waiting (a lost message, a dead worker) …
            "coverage-rebuilds": {"task": "requirements.rebuild_coverage", "schedule": 60.0},
            # … and the comparison with the live computation: a sample nightly, all weekly.
            "coverage-check-sample": {
                "task": "requirements.check_coverage",
                "schedule": crontab(minute=45, hour=3),
                "kwargs": {"kind": "sample"},
            },
            "coverage-check-full": {
                "task": "requirements.check_coverage",
                "schedule": crontab(minute=30, hour=4, day_of_week=0),
                "kwargs": {"kind": "full"},
            },
            # Today's coverage counts per department (requirements.counts): a no-op once
            # built, so a new day is counted within minutes after midnight.
            "coverage-counts": {"task": "requirements.build_coverage_counts", "schedule": 300.0},
            # Retention (privacy.retention): a report every night; it deletes or anonymises
            # only with RETENTION_APPLY=true.
            "retention": {
                "task": "privacy.run_retention",
                "schedule": crontab(minute=15, hour=1),
            },
            # Stored answers to the API's idempotent requests (api.services), after a few days.
            "api-idempotency": {
                "task": "api.forget_old_answers",
                "schedule": crontab(minute=45, hour=1),
            },
            "requirement-reminders": {
                "task": "notifications.scan_requirement_reminders",
                "schedule": 6 * 3600.0,
            },
        },
    }
    if redis_url:
        # Longer than the longest task plus its longest retry backoff, or Redis hands a
        # still-running task to a second worker.
        transport = {"visibility_timeout": _env_int("CELERY_VISIBILITY_TIMEOUT", 4 * 3600)}
        settings.update(
            broker_url=redis_url,
            result_backend=redis_url,
            broker_transport_options=transport,
            result_backend_transport_options=transport,
            task_always_eager=False,
            # With Redis down a request must not hang on publishing: give up fast (the outbox
            # row is committed; the periodic sweep sends it once Redis is back).
            broker_connection_timeout=2,
            task_publish_retry_policy={
                "max_retries": 1,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.2,
            },
        )
    else:
        settings.update(
            broker_url="memory://",
            task_always_eager=True,
            task_eager_propagates=True,
        )
    return settings


class Config:
    APP_ENV = os.environ.get("APP_ENV", "development")
    #: None: a random key kept in ``instance/secret_key`` (one machine only; refused in production).
    SECRET_KEY = os.environ.get("SECRET_KEY") or None

    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'schulung.db'}")
    )
    #: No pre-ping: on PostgreSQL the pool sees a closed connection on its socket instead, without
    #: a round trip (app/core/connections.py).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    REDIS_URL = os.environ.get("REDIS_URL") or None
    CELERY = celery_settings(REDIS_URL)

    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # With Redis down, people can still log in: limits fall back to per-process memory.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    #: Login attempts allowed per account name (guessing one person's password) …
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    #: … and per client address, higher: a whole town hall may share one address.
    LOGIN_RATE_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_RATE_LIMIT_PER_ADDRESS", "100 per minute")
    #: How long a "forgot password" link works after it was requested.
    PASSWORD_RESET_VALID_MINUTES = _env_int("PASSWORD_RESET_VALID_MINUTES", 60)
    #: How long an invitation link (to set one's own password) works.
    INVITATION_VALID_DAYS = _env_int("INVITATION_VALID_DAYS", 14)
    #: At most this many invitations per press of "Invite" on HR's page (the request stays
    #: short; pressing again continues). ``flask invite-staff`` has no limit.
    INVITATIONS_PER_REQUEST = _env_int("INVITATIONS_PER_REQUEST", 2000)
    #: "Forgot password" requests allowed per e-mail address entered (mail bombing one person) …
    #: Calls of one API client (all its operations together), e.g. a nightly sync of 50,000
    #: staff in batches of 1,000 makes 50 calls.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute")
    #: Days the answer to a request with an Idempotency-Key is kept (a retry within them
    #: gets the same answer); then it is deleted by a nightly task.
    API_IDEMPOTENCY_RETENTION_DAYS = _env_int("API_IDEMPOTENCY_RETENTION_DAYS", 7)
    PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "3 per hour")
    #: … and per client address.
    PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS = os.environ.get(
        "PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS", "30 per hour"
    )
    #: Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    # Directory login (LDAP / Active Directory); off while LDAP_URL is empty. See the README.
    #: ``ldaps://host:636`` or ``ldap://host:389`` (then set LDAP_START_TLS).
    LDAP_URL = os.environ.get("LDAP_URL", "").strip() or None
    #: Upgrade an ``ldap://`` connection with StartTLS before anything is sent.
    LDAP_START_TLS = _env_bool("LDAP_START_TLS")
    #: PEM file with the CA(s) that signed the server's certificate (else: the system's CAs).
    LDAP_CA_FILE = os.environ.get("LDAP_CA_FILE") or None
    #: Seconds to wait for the directory to connect and to answer.
    LDAP_TIMEOUT = _env_int("LDAP_TIMEOUT", 5)
    #: The service account that searches for the person logging in (empty: anonymous search).
    LDAP_BIND_DN = os.environ.get("LDAP_BIND_DN") or None
    LDAP_BIND_PASSWORD = os.environ.get("LDAP_BIND_PASSWORD") or None
    #: Where people are searched (the whole subtree), e.g. ``OU=Mitarbeiter,DC=stadt,DC=local``.
    LDAP_USER_BASE = os.environ.get("LDAP_USER_BASE", "")
    #: What people type as their login name: ``sAMAccountName`` (AD), ``uid`` or ``mail``.
    LDAP_LOGIN_ATTRIBUTE = os.environ.get("LDAP_LOGIN_ATTRIBUTE", "sAMAccountName")
    #: The attribute holding the personnel number (``employeeID`` in AD, ``employeeNumber``).
    LDAP_PERSONNEL_NUMBER_ATTRIBUTE = os.environ.get(
        "LDAP_PERSONNEL_NUMBER_ATTRIBUTE", "employeeID"
    )
    LDAP_MAIL_ATTRIBUTE = os.environ.get("LDAP_MAIL_ATTRIBUTE", "mail")
    #: The entry's stable id (``objectGUID`` in AD, ``entryUUID`` in OpenLDAP); else its DN.
    LDAP_ID_ATTRIBUTE = os.environ.get("LDAP_ID_ATTRIBUTE", "objectGUID")
    #: An LDAP filter an account must match to log in, e.g. ``(employeeType=aktiv)`` or
    #: ``(!(pwdAccountLockedTime=*))``; AD's "disabled" bit in userAccountControl always refuses.
    LDAP_USER_FILTER = os.environ.get("LDAP_USER_FILTER", "")
    #: DNs of the groups whose members get the HR or admin role (empty: the role is not
    #: managed by the directory and stays as assigned in the product).
    LDAP_GROUP_HR = os.environ.get("LDAP_GROUP_HR", "")
    LDAP_GROUP_ADMIN = os.environ.get("LDAP_GROUP_ADMIN", "")
    #: ``memberOf``: read the groups from the person's memberOf attribute (AD, OpenLDAP with the
    #: memberof overlay); ``member``: look the person up in each group's member attribute.
    LDAP_GROUP_MEMBERSHIP = os.environ.get("LDAP_GROUP_MEMBERSHIP", "memberOf")
    #: Show the e-mail/password form on the login page and accept its logins (false: only
    #: single sign-on; POSTs to the password form are refused too).
    PASSWORD_LOGIN = _env_bool("PASSWORD_LOGIN", True)
    # Single sign-on (OpenID Connect); off while neither OIDC_DISCOVERY_URL nor OIDC_ISSUER is set.
    #: The provider's metadata, e.g. ``https://login.microsoftonline.com/<tenant>/v2.0/.well-known/
    #: openid-configuration``; without it, ``OIDC_ISSUER`` + ``/.well-known/openid-configuration``.
    OIDC_DISCOVERY_URL = os.environ.get("OIDC_DISCOVERY_URL", "").strip() or None
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip() or None
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip() or None
    #: Empty: a public client (PKCE only, no client authentication at the token endpoint).
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET") or None
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
    #: The claims (in the ID token or at the userinfo endpoint) that carry the e-mail address …
    OIDC_EMAIL_CLAIM = os.environ.get("OIDC_EMAIL_CLAIM", "email")
    #: … and the personnel number (Entra ID: ``employeeid``; Keycloak: a mapped user attribute).
    OIDC_PERSONNEL_NUMBER_CLAIM = os.environ.get("OIDC_PERSONNEL_NUMBER_CLAIM", "employee_number")
    #: The claim listing the person's groups or roles, and the values that give HR or admin
    #: (empty: the role is not managed by the provider and stays as assigned in the product).
    OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
    OIDC_GROUP_HR = os.environ.get("OIDC_GROUP_HR", "").strip() or None
    OIDC_GROUP_ADMIN = os.environ.get("OIDC_GROUP_ADMIN", "").strip() or None
    #: Seconds to wait for the provider to answer.
    OIDC_TIMEOUT = _env_int("OIDC_TIMEOUT", 10)

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "schulungen@localhost")
    #: Where mail goes when no ``MAIL_SERVER`` is set: one ``.eml`` file per message.
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR", str(BASE_DIR / "instance" / "outbox"))

    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "de")
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ("de", "en")

    CITY_NAME = os.environ.get("CITY_NAME", "Stadt Neu-Isenburg")
    #: The city's logo, a file under app/static/ (an SVG or PNG, shown 32 px high).
    CITY_LOGO = os.environ.get("CITY_LOGO", "img/logo.svg")
    #: Printed letters (staff without e-mail): whom to call with questions, e.g.
    #: "Stabsstelle Integration, Frau Yılmaz, Tel. 06102 241-123"; empty: "your head or HR".
    LETTER_CONTACT = os.environ.get("LETTER_CONTACT", "")
    #: Printed invitations: what to bring; empty: "this letter and something to write".
    LETTER_WHAT_TO_BRING = os.environ.get("LETTER_WHAT_TO_BRING", "")
    #: Exports of more people than this are built in the background, with a progress bar.
    EXPORT_IN_BACKGROUND_ABOVE = _env_int("EXPORT_IN_BACKGROUND_ABOVE", 3000)
    #: Largest import file accepted, in MB (50,000 staff as CSV are about 5 MB).
    IMPORT_MAX_MB = _env_int("IMPORT_MAX_MB", 20)
    #: Largest request body; larger uploads get the "file too large" page.
    MAX_CONTENT_LENGTH = (IMPORT_MAX_MB + 1) * 1024 * 1024
    #: A requirement counts as "due soon" this many days before its due date.
    DUE_SOON_DAYS = _env_int("DUE_SOON_DAYS", 30)
    #: Figures without names (the staff council's) show no group of fewer people than this:
    #: a smaller department is counted with the one above it. At least 1.
    MIN_GROUP_SIZE = max(1, _env_int("MIN_GROUP_SIZE", 5))
    #: Up to this many active staff a changed requirement's coverage facts are rewritten in
    #: the same transaction; above, a Celery task rebuilds them with a progress bar.
    COVERAGE_INLINE_MAX_STAFF = _env_int("COVERAGE_INLINE_MAX_STAFF", 5000)
    #: The catalogue shows this many upcoming dates per page.
    CATALOGUE_DATES_PER_PAGE = _env_int("CATALOGUE_DATES_PER_PAGE", 25)
    #: Lists of people show this many per page, with a search: a date's participants, the
    #: attendance form (saved a page at a time), the people to book, the people overdue or due
    #: soon, the staff lists.
    PEOPLE_PER_PAGE = _env_int("PEOPLE_PER_PAGE", 50)
    #: Lists of a unit's sub-departments show this many per page (the department page, the
    #: coverage tables: the unit's own total always first).
    DEPARTMENTS_PER_PAGE = _env_int("DEPARTMENTS_PER_PAGE", 25)
    #: The coverage page shows every requirement in an overview, and the tables and charts of
    #: this many per page.
    COVERAGE_REQUIREMENTS_PER_PAGE = _env_int("COVERAGE_REQUIREMENTS_PER_PAGE", 10)
    #: The start page offers this many next dates per training still to do (all of them are on
    #: "Meine Pflichtschulungen") and lists this many of the newest completed trainings (all of
    #: them are on "Meine Schulungen").
    #: With Redis, parts of pages that many people see alike (the catalogue's dates) are kept
    #: there until their data changes, and at most this many seconds (0: never kept).
    PAGE_CACHE_SECONDS = _env_int("PAGE_CACHE_SECONDS", 300)
    START_PAGE_DATES_PER_REQUIREMENT = _env_int("START_PAGE_DATES_PER_REQUIREMENT", 1)
    #: The start page lists this many of a person's mandatory trainings, the soonest due first
    #: (all of them are on "Meine Pflichtschulungen").
    START_PAGE_REQUIREMENTS = _env_int("START_PAGE_REQUIREMENTS", 10)
    START_PAGE_COMPLETIONS = _env_int("START_PAGE_COMPLETIONS", 5)
    #: Start the rebuild task as soon as the change that queued it commits (else: the sweep).
    COVERAGE_REBUILD_ON_COMMIT = _env_bool("COVERAGE_REBUILD_ON_COMMIT", True)
    #: A running rebuild that has not reported progress for this long lost its worker and is
    #: taken over by the next sweep.
    COVERAGE_REBUILD_LEASE_SECONDS = _env_int("COVERAGE_REBUILD_LEASE_SECONDS", 600)
    #: Ranges of people a rebuild rewrites side by side, each on its own connection
    #: (PostgreSQL; SQLite has one writer); about the database server's cores.
    COVERAGE_REBUILD_WORKERS = _env_int("COVERAGE_REBUILD_WORKERS", 2)
    #: People compared by the nightly check of the coverage facts (the weekly one: everyone).
    COVERAGE_CHECK_SAMPLE = _env_int("COVERAGE_CHECK_SAMPLE", 1000)
    #: Overdue people are reminded again every this many days …
    REQUIREMENT_REMINDER_REPEAT_DAYS = _env_int("REQUIREMENT_REMINDER_REPEAT_DAYS", 14)
    #: … their head is told after this many days overdue, and HR after this many.
    ESCALATE_TO_HEAD_AFTER_DAYS = _env_int("ESCALATE_TO_HEAD_AFTER_DAYS", 30)
    ESCALATE_TO_HR_AFTER_DAYS = _env_int("ESCALATE_TO_HR_AFTER_DAYS", 60)
    #: Days before a date on which booked people are reminded.
    SESSION_REMINDER_DAYS = tuple(
        int(d) for d in os.environ.get("SESSION_REMINDER_DAYS", "7,1").split(",") if d.strip()
    )
    #: Send outbox messages right after the transaction that wrote them commits (a broker
    #: outage only delays them: the periodic sweep sends them later).
    OUTBOX_KICK_ON_COMMIT = _env_bool("OUTBOX_KICK_ON_COMMIT", True)
    #: Seconds after which a message claimed by a (presumably dead) worker is sent by another.
    OUTBOX_CLAIM_LEASE_SECONDS = _env_int("OUTBOX_CLAIM_LEASE_SECONDS", 600)
    # Retention (docs/datenschutz.md): what the nightly run anonymises or deletes, and when.
    #: Without it the nightly run only reports what it would do (so a city sees the first
    #: report before anything is deleted); ``flask retention`` applies on demand.
    RETENTION_APPLY = _env_bool("RETENTION_APPLY", False)
    #: Leavers' names, personnel numbers, addresses and logins, this many months after the
    #: exit date (their enrolments and completions stay, anonymous, for coverage history).
    LEAVER_RETENTION_MONTHS = _env_int("LEAVER_RETENTION_MONTHS", 24)
    #: What a sent message said (its payload and errors), this many days after sending.
    OUTBOX_BODY_RETENTION_DAYS = _env_int("OUTBOX_BODY_RETENTION_DAYS", 90)
    #: Uploaded import files (and the names in their previews), this many days after upload.
    IMPORT_FILE_RETENTION_DAYS = _env_int("IMPORT_FILE_RETENTION_DAYS", 30)
    #: Finished export files built in the background, this many days after they were built.
    REPORT_FILE_RETENTION_DAYS = _env_int("REPORT_FILE_RETENTION_DAYS", 30)
    #: Access-log entries (who saw whose data), this many months after the access.
    ACCESS_LOG_RETENTION_MONTHS = _env_int("ACCESS_LOG_RETENTION_MONTHS", 12)
    #: How people reach the app; links in e-mails start with it.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    #: Right-hand side of calendar UIDs; keep it stable, or calendars duplicate entries.
    CALENDAR_UID_DOMAIN = os.environ.get("CALENDAR_UID_DOMAIN", "schulungen.neu-isenburg.example")
    #: How often one address of a calendar subscription may be fetched (per client address).
    CALENDAR_FEED_RATE_LIMIT = os.environ.get("CALENDAR_FEED_RATE_LIMIT", "60 per hour")

    # Served over HTTPS in production: cookies only travel encrypted, never to scripts,
    # and not with cross-site requests.
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", APP_ENV == "production")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    PREFERRED_URL_SCHEME = "https" if APP_ENV == "production" else "http"


class TestConfig(Config):
    """Isolated settings for the test suite: SQLite file or ``TEST_DATABASE_URL``, eager tasks
    or ``TEST_REDIS_URL``."""

    APP_ENV = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("TEST_DATABASE_URL", "sqlite:///" + str(BASE_DIR / "instance" / "test.db"))
    )
    REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
    # Results are kept in tests so a test can wait for a task run by a real worker.
    CELERY = {**celery_settings(REDIS_URL), "task_ignore_result": False}
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    LOGIN_RATE_LIMIT = "5 per minute"
    # The suite's API tests (Schemathesis among them) call often; one test lowers it.
    API_RATE_LIMIT = "100000 per minute"
    LOGIN_RATE_LIMIT_PER_ADDRESS = "8 per minute"
    MAIL_SERVER = None
    MAIL_OUTBOX_DIR = str(BASE_DIR / "instance" / "test-outbox")
    # Tests deliver when they mean to; one test checks the kick after commit on its own.
    OUTBOX_KICK_ON_COMMIT = False
    # Likewise rebuilds: a test runs the task itself (one test checks the start on commit).
    COVERAGE_REBUILD_ON_COMMIT = False
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False

"""Pages every role shares: language, errors, security headers, the start page."""

from datetime import date

import pytest

from app import create_app
from app.core.roles import Role
from config import TestConfig
from tests.conftest import csrf_token


def test_ui_is_german_by_default(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Anmelden" in page
    assert "Passwort" in page
    assert "Log in" not in page


def test_language_switch_sticks_for_the_session_and_the_user(client, make, login, db):
    user = make.user("erika@stadt.example")
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/language", data={"locale": "en", "next": "/auth/login", "csrf_token": token}
    )
    assert response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page

    login("erika@stadt.example")  # the choice survives logging in
    assert "My overview" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"locale": "de", "csrf_token": csrf_token(client, "/")})
    assert "Meine Übersicht" in client.get("/").get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale == "de"


def test_language_switch_refuses_unknown_languages_and_foreign_targets(client):
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/language", data={"locale": "xx", "next": "//evil.example", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"
    assert '<html lang="de">' in client.get("/auth/login").get_data(as_text=True)


def test_unknown_page_is_a_styled_404_in_german(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Seite nicht gefunden" in page
    assert 'href="/static/css/app.css"' in page


def test_forbidden_page_is_a_styled_403(client, make, login):
    make.user("erika@stadt.example")
    login("erika@stadt.example")
    response = client.get("/status")
    assert response.status_code == 403
    assert "Zugriff verweigert" in response.get_data(as_text=True)


def test_server_error_page_leaks_nothing():
    class ProductionLikeConfig(TestConfig):
        TESTING = False

    app = create_app(ProductionLikeConfig)

    @app.route("/explode")
    def explode():
        raise RuntimeError("secret-internal-detail")

    response = app.test_client().get("/explode")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Ein Fehler ist aufgetreten" in page
    assert "secret-internal-detail" not in page
    assert "Traceback" not in page


def test_security_headers_on_every_response(client):
    for path in ("/auth/login", "/gibt-es-nicht", "/static/css/app.css"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_pages_use_no_inline_script_or_outside_assets(client, make, login):
    make.user("admin@stadt.example", roles=(Role.ADMIN, Role.HR), with_employee=False)
    login("admin@stadt.example")
    for path in ("/", "/auth/users", "/status", "/staff/employees", "/courses/"):
        page = client.get(path).get_data(as_text=True)
        assert "<script" not in page, path
        assert "style=" not in page, path
        assert "http://" not in page and "https://" not in page, path


def test_every_page_has_skip_link_and_main_landmark(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'class="skip-link" href="#main"' in page
    assert '<main id="main"' in page
    assert 'for="email"' in page and 'for="password"' in page


def test_employee_start_page_shows_own_completions(client, make, login, db):
    from app.courses.models import Completion, Course

    employee = make.employee(first_name="Aylin")
    make.user("aylin@stadt.example", employee=employee)
    course = Course(
        code="IKK", title="Interkulturelle Kompetenz im Bürgerservice", validity_months=36
    )
    db.session.add(course)
    db.session.flush()
    db.session.add(
        Completion(
            employee=employee,
            course=course,
            completed_on=date(2025, 3, 4),
            valid_until=date(2028, 3, 3),
        )
    )
    db.session.commit()
    login("aylin@stadt.example")
    page = client.get("/").get_data(as_text=True)
    assert "Hallo, Aylin" in page
    assert "Interkulturelle Kompetenz im Bürgerservice" in page
    assert "03.03.2028" in page


def test_start_page_lists_the_coming_bookings_soonest_first(client, make, login, db):
    """ "Meine gebuchten Termine": the dates still to come that the person is booked on or
    waiting for, soonest first, each with its place (or its online address) and status; not a
    date that has begun, nor a cancelled booking."""
    from datetime import timedelta

    from app.courses.models import Enrolment

    person = make.employee(first_name="Aylin")
    make.user("aylin@stadt.example", employee=person)
    later = make.course_session(
        make.course(title="Kommunikation"), starts_in=timedelta(days=20), location="Raum 4"
    )
    sooner = make.course_session(
        make.course(title="Erste Hilfe"),
        starts_in=timedelta(days=5),
        online_url="https://konferenz.example/eh",
    )
    begun = make.course_session(make.course(title="Brandschutz"), starts_in=-timedelta(hours=1))
    dropped = make.course_session(make.course(title="Datenschutz"), starts_in=timedelta(days=9))
    waiting_since = sooner.starts_at - timedelta(days=9)
    db.session.add_all(
        [
            Enrolment(session=later, employee=person, status="booked"),
            Enrolment(
                session=sooner,
                employee=person,
                status="waitlisted",
                waitlisted_at=waiting_since,
                waitlist_number=1,
            ),
            Enrolment(session=begun, employee=person, status="booked"),
            Enrolment(session=dropped, employee=person, status="cancelled"),
        ]
    )
    db.session.commit()
    login("aylin@stadt.example")

    page = client.get("/").get_data(as_text=True)
    booked = page[page.index('id="my-dates"') : page.index('id="my-history"')]
    assert "Brandschutz" not in booked and "Datenschutz" not in booked
    assert booked.index("Erste Hilfe") < booked.index("Kommunikation")
    assert "https://konferenz.example/eh" in booked and "Raum 4" in booked
    assert "auf der Warteliste" in booked and "gebucht" in booked


@pytest.mark.parametrize("app_env", ["production"])
def test_production_refuses_the_default_secret_key(app_env):
    class Production(TestConfig):
        APP_ENV = app_env
        SECRET_KEY = "dev-only-insecure-secret-key"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Production)

    class ProductionWithKey(Production):
        SECRET_KEY = "a-real-secret-of-our-own"

    assert create_app(ProductionWithKey).config["APP_ENV"] == "production"


def test_health_endpoint_answers(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_start_page_offers_the_soonest_date_per_training_and_the_newest_completions(
    app, client, make, login, db
):
    """The start page is what a person reads when the reminder wave arrives: per training still
    to do its soonest date (with a link to all of them), and the newest completions (with a
    link to all); "Meine Pflichtschulungen" and "Meine Schulungen" keep the full lists."""
    from datetime import timedelta

    from app.courses.models import Completion
    from app.requirements.models import AudienceKind, AudienceRule, Requirement

    person = make.employee(first_name="Aylin")
    make.user("aylin@stadt.example", employee=person)
    course = make.course("EH", title="Erste Hilfe")
    rule = Requirement(name="Erste Hilfe", first_due_date=date.today(), courses=[course])
    rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(rule)
    dates = [make.course_session(course, starts_in=timedelta(days=d)) for d in (30, 10, 20)]
    for year in range(2010, 2018):
        old = make.course(f"A{year}", title=f"Altkurs {year}")
        db.session.add(Completion(employee=person, course=old, completed_on=date(year, 5, 1)))
    db.session.commit()
    login("aylin@stadt.example")

    start = client.get("/").get_data(as_text=True)
    mine = client.get("/requirements/mine").get_data(as_text=True)
    assert f"/courses/sessions/{dates[1].id}/enrol" in start  # the soonest
    assert f"/courses/sessions/{dates[2].id}/enrol" not in start
    assert f'href="/requirements/mine#requirement-{rule.id}"' in start
    assert f'id="requirement-{rule.id}"' in mine
    assert all(f"/courses/sessions/{d.id}/enrol" in mine for d in dates)
    shown = app.config["START_PAGE_COMPLETIONS"]
    assert [y for y in range(2010, 2018) if f"Altkurs {y}" in start] == list(
        range(2018 - shown, 2018)
    )
    assert 'href="/courses/mine#completions"' in start
    history = client.get("/courses/mine").get_data(as_text=True)
    assert all(f"Altkurs {y}" in history for y in range(2010, 2018))


def test_start_page_lists_the_soonest_due_trainings_and_links_to_all(app, client, make, login, db):
    from app.requirements.models import AudienceKind, AudienceRule, Requirement

    person = make.employee(first_name="Aylin")
    make.user("aylin@stadt.example", employee=person)
    shown = app.config["START_PAGE_REQUIREMENTS"]
    for n in range(shown + 2):
        rule = Requirement(
            name=f"Pflicht {n:02d}",
            first_due_date=date(2030, 1, 1 + n),
            courses=[make.course(f"K{n}")],
        )
        rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
        db.session.add(rule)
    db.session.commit()
    login("aylin@stadt.example")

    start = client.get("/").get_data(as_text=True)
    mine = client.get("/requirements/mine").get_data(as_text=True)
    assert [n for n in range(shown + 2) if f"Pflicht {n:02d}" in start] == list(range(shown))
    assert "2 weitere Pflichtschulungen: alle anzeigen" in start
    assert all(f"Pflicht {n:02d}" in mine for n in range(shown + 2))

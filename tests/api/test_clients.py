"""API clients: tokens stored hashed, scopes, rotation, revocation, rate limits, no sessions."""

from __future__ import annotations

from sqlalchemy import select

from app.api import services
from app.api.models import ApiClient, Scope
from app.core.audit import AuditEntry
from app.core.roles import Role
from app.extensions import db
from tests.api.conftest import bearer
from tests.conftest import csrf_token


def test_a_token_is_stored_only_as_its_hash(api_token):
    token = api_token(Scope.COVERAGE_READ, name="Zeiterfassung")
    client = db.session.scalar(select(ApiClient))
    assert token.startswith("smk_") and len(token) > 40
    assert token not in (client.token_hash, client.token_prefix)
    assert client.token_hash == services.token_hash(token)
    assert client.scope_list == ["coverage:read"]


def test_without_a_token_the_answer_is_401_as_a_problem(client):
    response = client.get("/api/v1/coverage")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/api/v1/docs#problem-unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/api/v1/coverage", headers=bearer("smk_not-a-token"))
    assert wrong.status_code == 401


def test_a_logged_in_browser_session_does_not_open_the_api(client, login, make):
    make.user("admin@stadt.example", roles=(Role.ADMIN, Role.HR), with_employee=False)
    assert login("admin@stadt.example").status_code == 302
    assert client.get("/api/v1/coverage").status_code == 401


def test_a_missing_scope_is_403(client, api_token):
    token = api_token(Scope.COMPLETIONS_READ)
    response = client.get("/api/v1/coverage", headers=bearer(token))
    assert response.status_code == 403
    assert response.json["type"] == "/api/v1/docs#problem-insufficient-scope"
    assert "coverage:read" in response.json["detail"]
    written = client.post("/api/v1/staff/batch", json={"items": []}, headers=bearer(token))
    assert written.status_code == 403
    assert client.get("/api/v1/coverage", headers=bearer(api_token())).status_code == 200


def test_rotation_stops_the_old_token_at_once(client, api_token):
    old = api_token(Scope.COVERAGE_READ, name="HR")
    assert client.get("/api/v1/coverage", headers=bearer(old)).status_code == 200
    new = services.rotate_token(db.session, services.find_client(db.session, "HR"))
    db.session.commit()
    assert client.get("/api/v1/coverage", headers=bearer(old)).status_code == 401
    assert client.get("/api/v1/coverage", headers=bearer(new)).status_code == 200


def test_revocation_stops_the_token_and_is_audited(client, api_token):
    token = api_token(Scope.COVERAGE_READ, name="LMS")
    services.revoke(db.session, services.find_client(db.session, "LMS"))
    db.session.commit()
    assert client.get("/api/v1/coverage", headers=bearer(token)).status_code == 401
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "api_client"))
    assert list(actions) == ["create", "revoke"]


def test_calls_are_rate_limited_per_client_with_retry_after(app, client, api_token):
    first, second = api_token(name="A"), api_token(name="B")
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        for _ in range(3):
            assert client.get("/api/v1/coverage", headers=bearer(first)).status_code == 200
        limited = client.get("/api/v1/coverage", headers=bearer(first))
        assert limited.status_code == 429
        assert limited.mimetype == "application/problem+json"
        assert limited.json["type"] == "/api/v1/docs#problem-rate-limited"
        assert int(limited.headers["Retry-After"]) > 0
        # Another client has its own allowance.
        assert client.get("/api/v1/coverage", headers=bearer(second)).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = "100000 per minute"


def test_last_use_is_noted(client, api_token):
    token = api_token(Scope.COVERAGE_READ)
    client.get("/api/v1/coverage", headers=bearer(token))
    db.session.expire_all()
    assert db.session.scalar(select(ApiClient.last_used_at)) is not None


def test_the_admin_page_creates_a_client_and_shows_the_token_once(client, login, make):
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    token = csrf_token(client, "/api-clients")
    page = client.post(
        "/api-clients",
        data={"name": "SAP HCM", "scopes": ["staff:write"], "csrf_token": token},
    ).get_data(as_text=True)
    assert "smk_" in page and "SAP HCM" in page
    shown = page.split('id="new-token"')[1].split('value="')[1].split('"')[0]
    assert client.get("/api/v1/coverage", headers=bearer(shown)).status_code == 403
    again = client.get("/api-clients").get_data(as_text=True)
    assert shown not in again  # shown once: never again

    client_id = db.session.scalar(select(ApiClient.id))
    rotated = client.post(
        f"/api-clients/{client_id}/rotate", data={"csrf_token": csrf_token(client, "/api-clients")}
    ).get_data(as_text=True)
    new = rotated.split('id="new-token"')[1].split('value="')[1].split('"')[0]
    assert new != shown
    assert client.get("/api/v1/coverage", headers=bearer(shown)).status_code == 401
    client.post(
        f"/api-clients/{client_id}/revoke", data={"csrf_token": csrf_token(client, "/api-clients")}
    )
    assert client.get("/api/v1/coverage", headers=bearer(new)).status_code == 401


def test_the_client_page_is_for_admins_only(client, login, make):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    assert client.get("/api-clients").status_code == 403


def test_the_cli_prints_a_token_once_and_rotates_and_revokes(app, client):
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "api-client",
            "create",
            "Nightly HR",
            "--scope",
            "staff:write",
            "--scope",
            "coverage:read",
        ]
    )
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    assert client.get("/api/v1/coverage", headers=bearer(token)).status_code == 200
    rotated = runner.invoke(args=["api-client", "rotate", "Nightly HR"])
    new = rotated.output.strip()
    assert client.get("/api/v1/coverage", headers=bearer(token)).status_code == 401
    assert runner.invoke(args=["api-client", "revoke", "Nightly HR"]).exit_code == 0
    assert client.get("/api/v1/coverage", headers=bearer(new)).status_code == 401
    unknown = runner.invoke(args=["api-client", "create", "X", "--scope", "everything"])
    assert unknown.exit_code != 0


def test_openapi_document_and_docs_page_need_no_token(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200 and document.json["openapi"] == "3.1.0"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.get_data(as_text=True)
    assert "POST /api/v1/staff/batch" in html and 'id="problem-rate-limited"' in html
    assert "cdn" not in html.lower() and "<script" not in html.split("</header>")[-1]


def test_paths_under_the_api_that_name_no_operation_answer_problem_documents(client):
    unknown = client.get("/api/v1/nothing-here")
    wrong_method = client.delete("/api/v1/staff/batch")
    nul = client.get("/api/v1/coverage", query_string={"cursor": "a\x00b"})

    assert unknown.status_code == 404 and wrong_method.status_code == 405
    assert nul.status_code == 422  # refused before any view, answered as documented
    for response in (unknown, wrong_method, nul):
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == response.status_code
    assert client.get("/no-such-page").mimetype == "text/html"  # pages keep their error page


def test_the_docs_page_speaks_the_readers_language(client):
    """German by default like every page, English on request; the document's own words
    (summaries, descriptions) stay English and are marked as such for screen readers."""
    german = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<html lang="de">' in german
    for text in (
        "<h2>Operationen</h2>",
        "<caption>Parameter</caption>",
        "Antworten",
        "Typ",
        "Pflichtangabe",
        "Array aus StaffItem",
        "string oder null",
        "höchstens 32 Zeichen",
        "Links: Aufrufe, die auf die Antwort 200 folgen können",
        "<h2>Probleme</h2>",
    ):
        assert text in german, text
    for text in (">Operations<", ">Answers<", ">Parameters<", "array of", " or null", ">Required<"):
        assert text not in german, text
    assert '<p lang="en">Add or update people by personnel number' in german
    # Each link names its target operation, linked on the page.
    assert '<a href="#get--api-v1-completions"><code>GET /api/v1/completions</code></a>' in german

    token = csrf_token(client, "/auth/login")
    client.post("/language", data={"locale": "en", "csrf_token": token})
    english = client.get("/api/v1/docs").get_data(as_text=True)
    assert '<html lang="en">' in english
    for text in ("<h2>Operations</h2>", "<caption>Answers</caption>", "array of StaffItem"):
        assert text in english, text

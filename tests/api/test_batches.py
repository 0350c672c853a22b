"""Departments, staff and completions written in batches through the import's rules."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import func, select

from app.api.models import IdempotentRequest, Scope
from app.core.audit import AuditEntry
from app.courses.models import Completion
from app.extensions import db
from app.staff.models import Department, Employee
from tests.api.conftest import bearer


def staff_item(number: str, department: str = "FB1", **fields):
    return {
        "personnel_number": number,
        "first_name": "Ayşe",
        "last_name": f"Yılmaz {number}",
        "department": department,
        "entry_date": "2020-01-01",
        **fields,
    }


def test_departments_then_staff_are_upserted(client, api_token):
    token = api_token(Scope.STAFF_WRITE)
    departments = client.post(
        "/api/v1/departments/batch",
        json={
            "items": [
                {"code": "FB1", "name": "Bürgeramt", "parent": "D2"},
                {"code": "D2", "name": "Dezernat II"},
            ]
        },
        headers=bearer(token),
    )
    assert departments.status_code == 200, departments.json
    assert departments.json["created"] == 2
    child = db.session.scalar(select(Department).where(Department.code == "FB1"))
    assert child.parent.code == "D2"

    staff = client.post(
        "/api/v1/staff/batch",
        json={"items": [staff_item("0001"), staff_item("0002", email="a@stadt.example")]},
        headers=bearer(token),
    )
    assert staff.status_code == 200, staff.json
    assert staff.json == {
        "created": 2,
        "updated": 0,
        "deactivated": 0,
        "unchanged": 0,
        "warnings": [],
    }
    again = client.post(
        "/api/v1/staff/batch",
        json={"items": [staff_item("0001", position="Sachbearbeitung"), staff_item("0003")]},
        headers=bearer(token),
    )
    assert again.json["created"] == 1 and again.json["updated"] == 1
    # position was sent for every item of this batch; e-mail for none: kept.
    kept = db.session.scalar(select(Employee).where(Employee.personnel_number == "0002"))
    assert kept.email == "a@stadt.example"
    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api_batch", AuditEntry.entity == "staff")
    ).all()
    assert [entry.actor for entry in audit] == ["api: client 1", "api: client 1"]
    assert audit[1].channel == "api" and audit[1].after["created"] == ["0003"]


def test_a_batch_with_problems_changes_nothing_and_names_each_item(client, api_token, make):
    make.department("FB1")
    token = api_token(Scope.STAFF_WRITE)
    response = client.post(
        "/api/v1/staff/batch",
        json={
            "items": [
                staff_item("0001"),
                staff_item("0002", department="NOPE"),
                staff_item("0001"),
                staff_item("0004", email="not-an-address"),
            ]
        },
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/api/v1/docs#problem-rejected-rows"
    found = {(p["item"], p["field"], p["code"]) for p in response.json["problems"]}
    assert found == {
        (2, "department", "unknown_department"),
        (3, "personnel_number", "duplicate_personnel_number"),
        (4, "email", "bad_email"),
    }
    assert all(p["detail"] for p in response.json["problems"])
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 0


def test_schema_problems_are_422_with_the_item_and_field(client, api_token):
    token = api_token(Scope.STAFF_WRITE)
    response = client.post(
        "/api/v1/staff/batch",
        json={"items": [staff_item("1"), {**staff_item("2"), "entry_date": "yesterday"}]},
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert response.json["type"] == "/api/v1/docs#problem-invalid-request"
    assert response.json["problems"][0]["item"] == 2
    assert response.json["problems"][0]["field"] == "entry_date"


def test_a_leaver_is_deactivated_by_the_exit_date(client, api_token, make):
    department = make.department("FB1")
    make.employee(department, personnel_number="0001")
    token = api_token(Scope.STAFF_WRITE)
    gone = (date.today() - timedelta(days=3)).isoformat()
    response = client.post(
        "/api/v1/staff/batch",
        json={"items": [staff_item("0001", exit_date=gone)]},
        headers=bearer(token),
    )
    assert response.json["deactivated"] == 1
    db.session.expire_all()
    assert db.session.scalar(select(Employee.active)) is False


def test_a_retry_with_the_same_key_changes_nothing(client, api_token, make):
    make.department("FB1")
    token = api_token(Scope.STAFF_WRITE)
    headers = {**bearer(token), "Idempotency-Key": "sync-2026-12-04-batch-1"}
    body = {"items": [staff_item("0001")]}
    first = client.post("/api/v1/staff/batch", json=body, headers=headers)
    assert first.status_code == 200 and first.json["created"] == 1
    # Meanwhile HR corrects the name on a page; a retry of the old batch must not undo it.
    person = db.session.scalar(select(Employee))
    person.first_name = "Ayse"
    db.session.commit()
    retry = client.post("/api/v1/staff/batch", json=body, headers=headers)
    assert retry.status_code == 200
    assert retry.json == first.json
    assert retry.headers["Idempotent-Replayed"] == "true"
    db.session.expire_all()
    assert db.session.scalar(select(Employee.first_name)) == "Ayse"
    changed = client.post(
        "/api/v1/staff/batch", json={"items": [staff_item("0002")]}, headers=headers
    )
    assert changed.status_code == 422
    assert changed.json["type"] == "/api/v1/docs#problem-idempotency-key-reused"
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 1


def test_concurrent_requests_with_one_key_apply_once(app, api_token, make):
    make.department("FB1")
    token = api_token(Scope.STAFF_WRITE)
    headers = {**bearer(token), "Idempotency-Key": "same"}
    body = {"items": [staff_item(f"{n:04d}") for n in range(200)]}
    answers: list[tuple[int, dict]] = []
    start = threading.Barrier(4)

    def call() -> None:
        with app.app_context():
            own = app.test_client()
            start.wait()
            response = own.post("/api/v1/staff/batch", json=body, headers=headers)
            answers.append((response.status_code, response.json))
            db.session.remove()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * 4
    assert {answer["created"] for _, answer in answers} == {200}
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 200
    assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 1
    batches = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "api_batch")
    assert db.session.scalar(batches) == 1


def test_completions_are_created_with_the_course_validity_and_listed(client, api_token, make):
    root = make.department("D1")
    child = make.department("FB1", parent=root)
    other = make.department("FB9")
    make.employee(child, personnel_number="0001")
    make.employee(other, personnel_number="0009")
    make.course("IKK", validity_months=36)
    token = api_token(Scope.COMPLETIONS_WRITE, Scope.COMPLETIONS_READ)
    created = client.post(
        "/api/v1/completions/batch",
        json={
            "items": [
                {"personnel_number": "0001", "course": "IKK", "completed_on": "2026-03-31"},
                {"personnel_number": "0009", "course": "IKK", "completed_on": "2026-04-02"},
                {"personnel_number": "0009", "course": "IKK", "completed_on": "2025-04-02"},
            ]
        },
        headers=bearer(token),
    )
    assert created.status_code == 200, created.json
    assert created.json["created"] == 3
    valid = db.session.scalar(
        select(Completion.valid_until).where(Completion.completed_on == date(2026, 3, 31))
    )
    assert valid == date(2029, 3, 30)
    future = client.post(
        "/api/v1/completions/batch",
        json={
            "items": [{"personnel_number": "0001", "course": "IKK", "completed_on": "2999-01-01"}]
        },
        headers=bearer(token),
    )
    assert future.status_code == 422 and future.json["problems"][0]["code"] == "future_date"

    subtree = client.get(
        "/api/v1/completions?from=2026-01-01&to=2026-12-31&department=D1", headers=bearer(token)
    )
    assert [item["personnel_number"] for item in subtree.json["items"]] == ["0001"]
    pages, cursor = [], None
    while True:
        query = "/api/v1/completions?from=2025-01-01&to=2026-12-31&limit=2"
        page = client.get(query + (f"&cursor={cursor}" if cursor else ""), headers=bearer(token))
        pages.append([item["completed_on"] for item in page.json["items"]])
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert pages == [["2025-04-02", "2026-03-31"], ["2026-04-02"]]
    bad = client.get(
        "/api/v1/completions?from=2025-01-01&to=2026-12-31&cursor=abc", headers=bearer(token)
    )
    assert bad.status_code == 422
    unknown = client.get(
        "/api/v1/completions?from=2025-01-01&to=2026-12-31&department=XX", headers=bearer(token)
    )
    assert unknown.status_code == 422 and unknown.json["problems"][0]["field"] == "department"


def test_attendance_lists_person_day_and_hours(client, api_token, make):
    from datetime import timedelta as delta

    from app.courses.models import Enrolment

    office = make.department("FB1")
    person = make.employee(office, personnel_number="0001")
    session = make.course_session(starts_in=delta(days=2), hours=3)
    db.session.add(Enrolment(session_id=session.id, employee_id=person.id, status="booked"))
    db.session.commit()
    token = api_token(Scope.ENROLMENTS_READ)
    start, end = date.today().isoformat(), (date.today() + delta(days=7)).isoformat()
    response = client.get(f"/api/v1/attendance?from={start}&to={end}", headers=bearer(token))
    assert response.status_code == 200
    [item] = response.json["items"]
    assert item["personnel_number"] == "0001" and item["hours"] == 3.0
    assert item["status"] == "booked"
    assert (
        client.get(f"/api/v1/attendance?from={end}&to={start}", headers=bearer(token)).status_code
        == 422
    )


def test_people_statuses_of_a_subtree_come_in_pages(client, api_token, make):
    from app.requirements.models import AudienceKind, AudienceRule, Requirement

    top = make.department("D1")
    office = make.department("FB1", parent=top)
    elsewhere = make.department("FB9")
    course = make.course("IKK", validity_months=None)
    everyone = Requirement(name="Basis", first_due_date=date(2026, 3, 1), courses=[course])
    everyone.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(everyone)
    db.session.commit()
    for n in range(5):
        make.employee(office, personnel_number=f"{n:04d}")
    make.employee(elsewhere, personnel_number="9999")
    token = api_token(Scope.COVERAGE_READ)
    missing = client.get("/api/v1/coverage/departments/NOPE/people", headers=bearer(token))
    assert missing.status_code == 404
    assert missing.json["type"] == "/api/v1/docs#problem-not-found"
    numbers, cursor = [], None
    while True:
        query = "/api/v1/coverage/departments/D1/people?limit=2"
        page = client.get(query + (f"&cursor={cursor}" if cursor else ""), headers=bearer(token))
        assert page.status_code == 200
        numbers += [item["personnel_number"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert numbers == [f"{n:04d}" for n in range(5)]
    figures = client.get("/api/v1/coverage/departments/D1", headers=bearer(token)).json["items"]
    assert {(row["department"], row["in_scope"]) for row in figures} >= {("D1", 5), ("FB1", 5)}
    city = client.get("/api/v1/coverage", headers=bearer(token)).json["items"]
    assert (None, 6) in {(row["department"], row["in_scope"]) for row in city}


def test_a_body_that_is_not_json_is_a_400_problem(client, api_token):
    """As documented (OpenAPI, README, the docs page): 400 with the type not-json, for
    unparsable JSON as for a body sent as something else; JSON of the wrong shape stays 422."""
    token = api_token(Scope.STAFF_WRITE)
    bodies = [
        ('{"items": [', "application/json"),
        (b'"\xff"', "application/json"),
        ("", "application/json"),
        ('{"items": []}', "text/plain"),
        ("items=1", "application/x-www-form-urlencoded"),
        ("", None),
    ]
    for data, content_type in bodies:
        response = client.post(
            "/api/v1/staff/batch", data=data, content_type=content_type, headers=bearer(token)
        )
        assert response.status_code == 400, (data, content_type, response.json)
        assert response.mimetype == "application/problem+json"
        assert response.json["type"] == "/api/v1/docs#problem-not-json"
        assert response.json["status"] == 400
    wrong_shape = client.post("/api/v1/staff/batch", json=[1], headers=bearer(token))
    assert wrong_shape.status_code == 422
    assert wrong_shape.json["type"] == "/api/v1/docs#problem-invalid-request"
    # A token is checked first: without one the same body is a 401.
    assert client.post("/api/v1/staff/batch", data="x").status_code == 401
    document = client.get("/api/v1/openapi.json").json
    for path in ("/departments/batch", "/staff/batch", "/completions/batch"):
        assert "400" in document["paths"][f"/api/v1{path}"]["post"]["responses"]
    assert 'id="problem-not-json"' in client.get("/api/v1/docs").get_data(as_text=True)


def test_departments_are_found_by_their_code_as_the_batch_wrote_it(client, api_token):
    """Codes with slashes (German offices: 50/1) and codes the import tidied (spaces, case)
    are found by the coverage and list operations as they were sent in a batch."""
    token = api_token()
    created = client.post(
        "/api/v1/departments/batch",
        json={"items": [{"code": "50/1", "name": "Sozialamt"}, {"code": " Amt  32 ", "name": "X"}]},
        headers=bearer(token),
    )
    assert created.status_code == 200, created.json
    for path in (
        "/api/v1/coverage/departments/50/1",
        "/api/v1/coverage/departments/50%2F1",
        "/api/v1/coverage/departments/50/1/people",
        "/api/v1/coverage/departments/%20Amt%20%2032%20",
        "/api/v1/coverage/departments/amt 32/people",
        "/api/v1/completions?from=2026-01-01&to=2026-12-31&department=50/1",
        "/api/v1/attendance?from=2026-01-01&to=2026-12-31&department=%20AMT%2032",
    ):
        assert client.get(path, headers=bearer(token)).status_code == 200, path
    assert client.get("/api/v1/coverage/departments/50", headers=bearer(token)).status_code == 404


def test_items_are_checked_by_the_import_alone(client, api_token, make):
    """No second set of checks: an item gets the import's own problem (code and words) for a
    rule a file has too, and the JSON's shape is refused with the item and the field."""
    make.department("FB1")
    token = api_token(Scope.STAFF_WRITE)
    rules = client.post(
        "/api/v1/staff/batch",
        json={
            "items": [
                staff_item("0001", first_name="x" * 101),
                {key: value for key, value in staff_item("0002").items() if key != "last_name"},
                staff_item("0003", position="=HYPERLINK(1)"),
            ]
        },
        headers=bearer(token),
    )
    assert rules.status_code == 422
    assert rules.json["type"] == "/api/v1/docs#problem-rejected-rows"
    found = {(p["item"], p["field"], p["code"]) for p in rules.json["problems"]}
    assert found == {
        (1, "first_name", "too_long"),
        (2, "last_name", "required"),
        (3, "position", "formula"),
    }
    details = {p["code"]: p["detail"] for p in rules.json["problems"]}
    assert details["too_long"] == "Longer than 100 characters."  # the import's words
    assert details["required"] == "This value is required."

    shapes = client.post(
        "/api/v1/staff/batch",
        json={
            "items": [
                staff_item("0001", cost_centre="4711"),
                staff_item(4711),
                staff_item("0003", first_name="A\x00"),
                staff_item("0004", entry_date="31.12.2020"),
                staff_item("0005", entry_date="2021-02-29"),
                staff_item("0006", exit_date="3000-01-01"),
                staff_item("0007", entry_date=""),
                staff_item("0008", position=["a"]),
            ]
        },
        headers=bearer(token),
    )
    assert shapes.status_code == 422
    assert shapes.json["type"] == "/api/v1/docs#problem-invalid-request"
    found = {(p["item"], p["field"], p["code"]) for p in shapes.json["problems"]}
    assert found == {
        (1, "cost_centre", "unknown_field"),
        (2, "personnel_number", "not_text"),
        (3, "first_name", "not_storable"),
        (4, "entry_date", "bad_iso_date"),
        (5, "entry_date", "bad_iso_date"),
        (6, "exit_date", "bad_iso_date"),
        (7, "entry_date", "bad_iso_date"),
        (8, "position", "not_text"),
    }
    assert shapes.json["problems"][3]["detail"] == (
        "“31.12.2020” is not a date of the form YYYY-MM-DD between the years 1900 and 2999."
    )
    not_objects = client.post(
        "/api/v1/staff/batch", json={"items": [staff_item("0001"), "0002"]}, headers=bearer(token)
    )
    assert not_objects.status_code == 422
    assert [(p["item"], p["field"]) for p in not_objects.json["problems"]] == [(2, None)]
    assert db.session.scalar(select(func.count()).select_from(Employee)) == 0


def test_a_batch_is_not_loaded_item_by_item_through_marshmallow(client, api_token, make):
    """The budget behind the nightly sync's speed (docs/benchmarks.md): marshmallow loading
    1,000 items field by field took as long as the import's whole check of them."""
    from unittest import mock

    from marshmallow import fields

    make.department("FB1")
    token = api_token(Scope.STAFF_WRITE)
    body = {"items": [staff_item(f"{n:04d}", email=f"p{n}@stadt.example") for n in range(1000)]}
    loaded = fields.Field.deserialize
    with mock.patch.object(
        fields.Field, "deserialize", autospec=True, side_effect=loaded
    ) as deserialize:
        response = client.post("/api/v1/staff/batch", json=body, headers=bearer(token))
    assert response.status_code == 200 and response.json["created"] == 1000
    assert deserialize.call_count < 10

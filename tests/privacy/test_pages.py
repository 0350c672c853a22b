"""The audit log page and its CSV, the staff council's summary and the access log page."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from app.core.audit import Actor, AuditEntry, Channel, acting_as, record_access, record_change
from app.core.roles import Role
from app.extensions import db
from app.privacy.services import audit_log


@pytest.fixture
def entries(db):
    """Five changes of courses by two people, and one of a login."""
    for n in range(5):
        who = Actor(user_id=None, name=f"person{n % 2}@stadt.example", channel=Channel.WEB)
        record_change(
            db.session,
            action="update",
            entity="course",
            entity_id=n,
            before={"title": f"Alt {n}"},
            after={"title": f"=Neu {n}"},
            actor=who,
        )
    record_change(db.session, action="create", entity="user", entity_id=99, after={"active": True})
    db.session.commit()
    return list(db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


@pytest.fixture
def officer(make, login):
    make.user("datenschutz@stadt.example", roles=(Role.DATA_PROTECTION,), with_employee=False)
    login("datenschutz@stadt.example")


def test_the_officer_pages_through_the_filtered_log_newest_first(client, entries, officer):
    audit_log.PAGE_SIZE, size = 2, audit_log.PAGE_SIZE
    try:
        first = client.get("/privacy/audit", query_string={"entity": "course"})
        page = first.get_data(as_text=True)
        assert first.status_code == 200
        assert page.index("=Neu 4") < page.index("=Neu 3") and "=Neu 2" not in page
        assert f"before={entries[3]}" in page  # cut by id, not by offset
        second = client.get(
            "/privacy/audit", query_string={"entity": "course", "before": entries[3]}
        ).get_data(as_text=True)
        assert "=Neu 2" in second and "=Neu 1" in second and "=Neu 4" not in second
    finally:
        audit_log.PAGE_SIZE = size

    by_actor = client.get("/privacy/audit", query_string={"actor": "PERSON1"}).get_data(
        as_text=True
    )
    assert "=Neu 1" in by_actor and "=Neu 3" in by_actor and "=Neu 0" not in by_actor
    one = client.get("/privacy/audit", query_string={"entity_id": "99"}).get_data(as_text=True)
    assert "=Neu" not in one and "#99" in one


@pytest.mark.parametrize(
    "args",
    [
        {"date_from": "2027-13-45"},
        {"date_from": "2027-02-01", "date_to": "2027-01-01"},
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31"},
        {"actor": "a\x00b"},
        {"entity_id": "9" * 65},
        {"before": "9" * 30},
        {"before": "-1"},
    ],
    ids=["no-date", "backwards", "year-1", "year-9999", "nul", "long-id", "huge-cursor", "minus"],
)
def test_bad_filters_give_a_form_error_never_a_500(client, entries, officer, args):
    access_names = {"actor": "viewer", "entity_id": "personnel_number"}
    access_args = {access_names.get(name, name): value for name, value in args.items()}
    for path, query in (
        ("/privacy/audit", args),
        ("/privacy/audit.csv", args),
        ("/privacy/access", access_args),
    ):
        response = client.get(path, query_string=query)
        assert response.status_code == 400, path
        if "\x00" in "".join(args.values()):
            continue  # refused for every page before the view runs (app.core.input)
        assert "Bitte korrigieren Sie" in response.get_data(as_text=True) or "before" in args


def test_the_csv_holds_the_filtered_entries_and_its_download_is_recorded(client, entries, officer):
    response = client.get("/privacy/audit.csv", query_string={"actor": "person0"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["id", "at", "actor"]
    assert [row[6] for row in rows[1:]] == ["4", "2", "0"]
    assert rows[1][8].startswith("'") or not rows[1][8].startswith("=")  # no formula
    exported = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "audit_log"))
    assert (exported.action, exported.actor) == ("export", "datenschutz@stadt.example")
    assert exported.after == {"actor": "person0"}


def test_the_staff_council_sees_counts_per_month_and_no_names(client, make, login, entries):
    make.user("personalrat@stadt.example", roles=(Role.STAFF_COUNCIL,), with_employee=False)
    login("personalrat@stadt.example")
    page = client.get("/privacy/audit/summary").get_data(as_text=True)
    assert "Schulung" in page and ">5<" in page and "Zugang" in page
    assert "person0" not in page and "=Neu" not in page and "system" not in page
    assert client.get("/privacy/audit").status_code == 403
    assert client.get("/privacy/audit.csv").status_code == 403
    assert client.get("/privacy/access").status_code == 403


def test_who_sees_which_record(client, make, login):
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("admin@stadt.example")
    assert client.get("/privacy/audit").status_code == 200
    assert client.get("/privacy/access").status_code == 403  # names of people: not for admin
    client.post("/auth/logout", data={"csrf_token": _token(client)})
    login("hr@stadt.example")
    for path in ("/privacy/audit", "/privacy/access", "/privacy/audit/summary"):
        assert client.get(path).status_code == 403, path


def test_the_officer_finds_who_looked_at_a_person(client, make, officer, hr):
    anna = make.employee(personnel_number="4711")
    ben = make.employee(personnel_number="4712")
    viewer = Actor(user_id=hr.id, name=hr.email, channel=Channel.WEB)
    with acting_as(viewer):
        record_access(db.session, purpose="drilldown", employee_ids=[anna.id, ben.id], detail="A")
        record_access(db.session, purpose="export", employee_ids=[ben.id], detail="b.csv")
    db.session.commit()

    page = client.get("/privacy/access", query_string={"personnel_number": "4711"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "drilldown" in text and "b.csv" not in text and "hr@stadt.example" in text
    both = client.get("/privacy/access", query_string={"viewer": "HR@"}).get_data(as_text=True)
    assert "b.csv" in both and text.count("hr@stadt.example") <= both.count("hr@stadt.example")


def _token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/")

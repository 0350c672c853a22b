"""A staff import can invite the new people when it is confirmed (off by default)."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import LoginLink
from app.core.models import MessageKind, OutboxMessage
from app.imports.models import ImportRun
from tests.conftest import csrf_token
from tests.imports import test_pages
from tests.imports.conftest import csv_bytes
from tests.imports.test_pages import GOOD, HEADER, settle, upload

hr_client = test_pages.hr_client  # HR logged in, with department FB-51


def confirm(client, page: str, *, invite: bool):
    data = {"csrf_token": csrf_token(client, page)}
    if invite:
        data["invite_new"] = "y"
    return client.post(f"{page}/confirm", data=data)


def invited(db) -> list[str]:
    """Personnel numbers of the people an invitation mail is queued for."""
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.INVITATION.value)
    ).all()
    links = [db.session.get(LoginLink, row.payload["link_id"]) for row in rows]
    return sorted(link.employee.personnel_number for link in links)


def test_the_option_is_offered_off_and_invites_only_the_new_people(hr_client, db, make):
    make.employee(email="bekannt@stadt.example", personnel_number="4000")
    page = upload(hr_client, csv_bytes([HEADER, *GOOD])).headers["Location"]
    html = settle(hr_client, page)
    assert "Die neuen Personen mit E-Mail-Adresse einladen" in html
    assert 'name="invite_new"' in html and "checked" not in html.split('name="invite_new"')[1][:40]

    assert confirm(hr_client, page, invite=True).status_code == 302
    settle(hr_client, page)
    db.session.expire_all()
    run = db.session.scalar(select(ImportRun))
    assert run.status == "done" and run.invite_new
    assert run.report["applied"]["invited"] == 2
    assert invited(db) == ["4711", "4712"]  # not the person who was there before


def test_without_the_option_nobody_is_invited(hr_client, db):
    page = upload(hr_client, csv_bytes([HEADER, *GOOD])).headers["Location"]
    settle(hr_client, page)

    assert confirm(hr_client, page, invite=False).status_code == 302
    settle(hr_client, page)
    db.session.expire_all()
    run = db.session.scalar(select(ImportRun))
    assert run.status == "done" and not run.invite_new
    assert invited(db) == []

"""Every change that matters lands in the audit log: who, what, before and after, committed or
rolled back with the change itself."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.auth.models import User
from app.core.audit import AuditEntry
from app.core.roles import Role
from app.core.types import utcnow
from app.courses.models import Course, CourseSession, Enrolment
from app.courses.services import enrolment as enrolment_services
from app.extensions import db
from app.requirements.models import Requirement
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD
from tests.imports.conftest import csv_bytes


def _entries(entity: str, action: str | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def test_hr_creating_and_editing_a_course_is_recorded_with_before_and_after(client, login, hr):
    login("hr@stadt.example")
    form = {
        "csrf_token": csrf_token(client, "/courses/course/new"),
        "code": "DIV-FK",
        "title": "Diversity für Führungskräfte",
        "format": "in_person",
        "language": "de",
        "duration_minutes": "240",
        "default_capacity": "14",
    }
    assert client.post("/courses/course/new", data=form).status_code == 302
    course = db.session.scalar(select(Course))
    edit = f"/courses/course/{course.id}/edit"
    form.update(csrf_token=csrf_token(client, edit), title="Diversity Management")
    assert client.post(edit, data=form).status_code == 302

    created, updated = _entries("course")
    assert (created.action, created.actor, created.actor_user_id, created.channel) == (
        "create",
        "hr@stadt.example",
        hr.id,
        "web",
    )
    assert created.entity_id == str(course.id) and created.before is None
    assert created.after["title"] == "Diversity für Führungskräfte"
    assert created.after["default_capacity"] == 14
    assert updated.action == "update"
    assert updated.before == {"title": "Diversity für Führungskräfte"}
    assert updated.after == {"title": "Diversity Management"}


def test_a_new_date_and_its_change_are_recorded(client, login, make, hr):
    course = make.course()
    login("hr@stadt.example")
    new_session = f"/courses/course/{course.id}/sessions/new"
    start = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT09:00")
    form = {
        "csrf_token": csrf_token(client, new_session),
        "starts_at": start,
        "ends_at": start.replace("T09:00", "T12:00"),
        "capacity": "14",
    }
    assert client.post(new_session, data=form).status_code == 302
    course_session = db.session.scalar(select(CourseSession))
    edit = f"/courses/sessions/{course_session.id}/edit"
    form.update(csrf_token=csrf_token(client, edit), capacity="20")
    assert client.post(edit, data=form).status_code == 302

    created, updated = _entries("session")
    assert created.after["course_id"] == course.id and created.after["capacity"] == 14
    assert (updated.before, updated.after) == ({"capacity": 14}, {"capacity": 20})
    assert updated.actor == "hr@stadt.example"


def test_hr_booking_someone_is_recorded_but_booking_oneself_is_not(
    client, login, make, hr, staff_user
):
    course_session = make.course_session(capacity=5)
    colleague = make.employee(personnel_number="4711")
    login("hr@stadt.example")
    path = f"/courses/sessions/{course_session.id}/book"
    response = client.post(
        f"/courses/sessions/{course_session.id}/book-one",
        data={"csrf_token": csrf_token(client, path), "one-personnel_number": "4711"},
    )
    assert response.status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login("erika@stadt.example")
    own = f"/courses/sessions/{course_session.id}"
    assert client.post(f"{own}/enrol", data={"csrf_token": csrf_token(client, own)}).status_code
    assert db.session.scalar(
        select(Enrolment).where(Enrolment.employee_id == staff_user.employee_id)
    )

    (booked,) = _entries("enrolment")
    assert (booked.action, booked.actor) == ("booked", "hr@stadt.example")
    assert booked.before is None
    assert booked.after == {
        "employee_id": colleague.id,
        "session_id": course_session.id,
        "status": "booked",
        "deadline_overridden": False,
    }


def test_a_place_moving_up_from_the_waiting_list_is_recorded(make, hr):
    course_session = make.course_session(capacity=1)
    first, second = make.employee(), make.employee()
    hr_user = db.session.get(User, hr.id)
    taken = enrolment_services.enrol(
        db.session, employee=first, course_session=course_session, actor=hr_user
    )
    enrolment_services.enrol(
        db.session, employee=second, course_session=course_session, actor=hr_user
    )
    enrolment_services.cancel_enrolment(db.session, enrolment=taken, actor=hr_user)
    db.session.commit()

    actions = [(e.action, e.before, e.after["employee_id"]) for e in _entries("enrolment")]
    assert actions == [
        ("booked", None, first.id),
        ("waitlisted", None, second.id),
        ("cancelled", {"status": "booked"}, first.id),
        ("promoted", {"status": "waitlisted"}, second.id),
    ]


def test_attendance_is_one_entry_per_date_and_completions_each_their_own(client, login, make, hr):
    course_session = make.course_session(capacity=5, starts_in=timedelta(hours=2))
    people = [make.employee() for _ in range(3)]
    hr_user = db.session.get(User, hr.id)
    for person in people:
        enrolment_services.enrol(
            db.session, employee=person, course_session=course_session, actor=hr_user
        )
    db.session.commit()
    enrolments = {e.employee_id: e.id for e in db.session.scalars(select(Enrolment))}
    login("hr@stadt.example")
    attendance = f"/courses/sessions/{course_session.id}/attendance"
    with time_machine.travel(course_session.ends_at + timedelta(minutes=5)):
        data = {"csrf_token": csrf_token(client, attendance)}
        data[f"outcome-{enrolments[people[0].id]}"] = "attended"
        data[f"outcome-{enrolments[people[1].id]}"] = "no_show"
        assert client.post(attendance, data=data).status_code == 302
        data[f"outcome-{enrolments[people[0].id]}"] = "excused"  # changed their mind
        data["csrf_token"] = csrf_token(client, attendance)
        assert client.post(attendance, data=data).status_code == 302

    first, second = _entries("session", "attendance")
    assert first.entity_id == str(course_session.id)
    assert first.before == {str(people[0].id): "booked", str(people[1].id): "booked"}
    assert first.after == {str(people[0].id): "attended", str(people[1].id): "no_show"}
    assert (second.before, second.after) == (
        {str(people[0].id): "attended"},
        {str(people[0].id): "excused"},
    )
    granted, taken_away = _entries("completion")
    assert (granted.action, granted.after["employee_id"]) == ("create", people[0].id)
    assert (taken_away.action, taken_away.before["employee_id"]) == ("delete", people[0].id)
    assert granted.actor == taken_away.actor == "hr@stadt.example"


def test_a_requirement_records_its_courses_and_audience_and_an_exemption_not_its_reason(
    client, login, make, hr
):
    course = make.course()
    make.department("D3-KITA")
    person = make.employee(personnel_number="777")
    login("hr@stadt.example")
    form = {
        "csrf_token": csrf_token(client, "/requirements/new"),
        "name": "Grundkurs",
        "courses": [str(course.id)],
        "include_departments": "D3-KITA",
        "grace_days": "90",
    }
    assert client.post("/requirements/new", data=form).status_code == 302
    requirement = db.session.scalar(select(Requirement))
    path = f"/requirements/{requirement.id}/exemptions"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "personnel_number": "777",
            "reason": "Elternzeit",
            "starts_on": utcnow().date().isoformat(),
        },
    )
    assert response.status_code == 302

    (created,) = _entries("requirement")
    assert created.after["courses"] == [course.id] and created.after["grace_days"] == 90
    (audience,) = _entries("requirement_audience")
    assert audience.after["requirement_id"] == requirement.id
    (exemption,) = _entries("exemption")
    assert exemption.after["employee_id"] == person.id
    assert "Elternzeit" not in str(exemption.after)


def test_logins_roles_and_head_assignments_are_recorded_and_a_password_only_as_changed(
    client, login, make
):
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    kb = make.department("D3-KB")
    make.employee(kb, personnel_number="100777")
    login("admin@stadt.example")
    response = client.post(
        "/auth/users/new",
        data={
            "csrf_token": csrf_token(client, "/auth/users/new"),
            "email": "leitung@stadt.example",
            "password": "ein-langes-passwort",
            "personnel_number": "100777",
            "roles": ["employee", "head"],
            "headed_departments": "D3-KB",
            "active": "y",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "leitung@stadt.example"))

    (created,) = [e for e in _entries("user", "create") if e.entity_id == str(user.id)]
    assert created.actor == "admin@stadt.example" and created.entity_id == str(user.id)
    assert created.after["email"] == "leitung@stadt.example"
    assert created.after["password_hash"] == "(set)"
    roles = [e for e in _entries("role") if e.after["user_id"] == user.id]
    assert sorted(e.after["role"] for e in roles) == ["employee", "head"]
    assert {e.actor for e in roles} == {"admin@stadt.example"}
    updates = [e for e in _entries("user", "update") if e.entity_id == str(user.id)]
    linked = {name: value for e in updates for name, value in e.after.items()}
    assert linked == {"employee_id": user.employee_id, "headed_departments": [kb.id]}
    assert {e.actor for e in updates} == {"admin@stadt.example"}

    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login("leitung@stadt.example", "ein-langes-passwort")
    form = {
        "csrf_token": csrf_token(client, "/auth/password"),
        "current_password": "ein-langes-passwort",
        "new_password": "neues-passwort-123",
        "confirm_password": "neues-passwort-123",
    }
    assert client.post("/auth/password", data=form).status_code == 302
    *_, changed = [e for e in _entries("user", "update") if e.entity_id == str(user.id)]
    assert changed.actor == "leitung@stadt.example"
    assert (changed.before, changed.after) == (
        {"password_hash": "(set)"},
        {"password_hash": "(changed)"},
    )
    db.session.refresh(user)
    hashes = db.session.scalars(select(AuditEntry.after)).all() + [DEFAULT_PASSWORD]
    assert not any(user.password_hash in str(values) for values in hashes)


def test_a_staff_import_from_the_command_line_is_one_entry_with_counts(app, make, tmp_path):
    make.department("FB-51")
    path = tmp_path / "personal.csv"
    header = ["Personalnummer", "Vorname", "Nachname", "Organisationseinheit"]
    rows = [[str(4700 + n), "Vor", f"Name{n}", "FB-51"] for n in range(3)]
    path.write_bytes(csv_bytes([header, *rows]))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["import-staff", str(path), "--language", "en"])

    assert result.exit_code == 0, result.output
    (entry,) = _entries("import")
    assert (entry.action, entry.actor, entry.channel) == ("import", "cli: import-staff", "cli")
    assert entry.after["kind"] == "staff" and entry.after["created"] == 3
    assert _entries("employee") == []  # the rows themselves went in by bulk statements


def test_a_change_rolled_back_leaves_no_entry(make):
    course = make.course(title="Alt")
    before = len(_entries("course"))
    course = db.session.get(Course, course.id)
    course.title = "Neu"
    db.session.flush()
    assert len(_entries("course")) == before + 1  # written in the flush …
    db.session.rollback()
    assert len(_entries("course")) == before  # … and gone with the change
    assert db.session.get(Course, course.id).title == "Alt"


def test_a_change_of_nothing_audited_writes_nothing(make):
    course_session = make.course_session()
    before = len(_entries("session"))
    course_session = db.session.get(CourseSession, course_session.id)
    course_session.sequence += 1  # bookkeeping, not a change anyone signs off
    db.session.commit()
    assert len(_entries("session")) == before
    assert re.fullmatch(r"\d+", _entries("session")[-1].entity_id)

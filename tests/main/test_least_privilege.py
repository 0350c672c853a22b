"""Least privilege: the admin role manages logins, roles and the system, and sees no one's
training data unless the same login also holds the HR role; heads see their subtree only."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.core.clock import local_today
from app.core.roles import Role
from app.courses.models import Completion, Enrolment
from app.extensions import db
from app.reports.models import ReportFile, ReportStatus
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from tests.conftest import csrf_token
from tests.imports.conftest import Importer, csv_bytes

#: Pages and files with people's names or training status, as a browser asks for them.
PERSONAL_PAGES = [
    "/reports/coverage",
    "/reports/coverage?department=D1",
    "/reports/people",
    "/reports/people?department=D1&status=overdue",
    "/reports/people.csv",
    "/reports/people.xlsx",
    "/reports/coverage.pdf",
    "/reports/exports/{report}",
    "/reports/exports/{report}.json",
    "/reports/exports/{report}/download",
    "/staff/departments",
    "/staff/departments/D1",
    "/staff/employees",
    "/imports/",
    "/imports/{run}",
    "/imports/{run}.json",
    "/imports/blank/staff.csv",
    "/notifications/outbox",
    "/notifications/outbox?status=sent",
    "/notifications/letters",
    "/notifications/letters.pdf",
    "/notifications/invitations.pdf?department=D1",
    "/notifications/invitations/sessions/{session}.pdf",
    "/courses/sessions/{session}/attendance",
    "/courses/sessions/{session}/sign-in-sheet.pdf",
    "/courses/sessions/{session}/book",
    "/courses/book-for/{person}",
    "/requirements/",
    "/requirements/{requirement}/exemptions",
]
#: Actions on such data: an import confirmed (a complete staff list disables people), etc.
PERSONAL_ACTIONS = [
    "/imports/{run}/confirm",
    "/imports/{run}/discard",
    "/imports/{run}/mapping",
    "/notifications/outbox/retry",
    "/notifications/letters/handed-out",
    "/courses/sessions/{session}/book-one",
]
#: What an admin is for: logins, roles, invitations (no training data), the system's health.
ADMIN_PAGES = ["/auth/users", "/auth/users/new", "/auth/invitations", "/status"]


@pytest.fixture
def world(make):
    """A department with an overdue person booked on a date, an import waiting to be
    confirmed, and a requirement."""
    department = make.department("D1", name="Bürgeramt")
    person = make.employee(department, first_name="Aylin", last_name="Yıldız")
    course = make.course("IKK", title="Interkulturelle Kompetenz")
    course_session = make.course_session(course)
    db.session.add(Enrolment(employee=person, session=course_session, status="booked"))
    course_session.seats_taken = 1
    requirement = Requirement(
        name="Basis", first_due_date=local_today() - timedelta(days=30), courses=[course]
    )
    requirement.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(requirement)
    db.session.commit()
    header = ["Personalnummer", "Vorname", "Nachname", "E-Mail", "Organisationseinheit"]
    run = Importer().check(
        "staff",
        csv_bytes([header, ["4711", "Jürgen", "Groß", "j.gross@stadt.example", "D1"]]),
        full=True,
        today=local_today(),
    )
    return {
        "run": run.token,
        "session": course_session.id,
        "person": person.personnel_number,
        "requirement": requirement.id,
    }


def _report_of(user) -> str:
    """A finished background export requested by ``user``; returns its token."""
    report = ReportFile(
        token=f"token-{user.id}",
        requested_by_user_id=user.id,
        format="csv",
        status=ReportStatus.DONE.value,
        progress=100,
        filename="abdeckung.csv",
        content="Yıldız;Aylin;überfällig\n".encode(),
    )
    db.session.add(report)
    db.session.commit()
    return report.token


def _url(template: str, world: dict, report: str) -> str:
    return template.format(report=report, **world)


@pytest.mark.parametrize("path", PERSONAL_PAGES)
def test_admin_without_hr_gets_403_on_personal_data(client, make, login, world, path):
    admin = make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    report = _report_of(admin)
    login("admin@stadt.example")
    response = client.get(_url(path, world, report))
    assert response.status_code == 403, path
    assert "Yıldız" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", PERSONAL_PAGES)
def test_admin_with_hr_opens_personal_data(client, make, login, world, path):
    admin = make.user("admin@stadt.example", roles=(Role.ADMIN, Role.HR), with_employee=False)
    report = _report_of(admin)
    login("admin@stadt.example")
    assert client.get(_url(path, world, report)).status_code == 200, path


@pytest.mark.parametrize("path", PERSONAL_ACTIONS)
def test_admin_without_hr_may_not_act_on_personal_data(client, make, login, world, path):
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    token = csrf_token(client, "/auth/users/new")
    response = client.post(
        _url(path, world, "none"),
        data={"csrf_token": token, "message_id": "1", "personnel_number": world["person"]},
    )
    assert response.status_code == 403, path


def test_a_complete_staff_list_confirmed_by_admin_disables_nobody(client, make, login, world):
    from app.imports.models import ImportRun
    from app.staff.models import Employee

    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    token = csrf_token(client, "/auth/users/new")
    response = client.post(f"/imports/{world['run']}/confirm", data={"csrf_token": token})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.scalars(db.select(Employee.active)).all() == [True]
    run = db.session.scalar(db.select(ImportRun).where(ImportRun.token == world["run"]))
    assert run.status == "ready"


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_keeps_logins_roles_and_the_system(client, make, login, world, path):
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    response = client.get(path)
    assert response.status_code == 200, path


def test_the_pages_admin_keeps_show_no_training_data(client, make, login, world):
    """The status page, the invitation page and a date's page name nobody's training."""
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    for path in ("/", "/status", "/auth/invitations", f"/courses/sessions/{world['session']}"):
        page = client.get(path).get_data(as_text=True)
        assert "Yıldız" not in page and "Aylin" not in page, path
        assert "überfällig" not in page, path


def test_navigation_offers_a_pure_admin_no_personal_data(client, make, login, world):
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    links = _navigation(client)
    assert "/auth/users" in links and "/status" in links
    offered = [
        link
        for link in links
        for prefix in ("/reports", "/staff", "/imports", "/notifications", "/requirements")
        if link.startswith(prefix)
    ]
    assert offered == []


def test_navigation_offers_admin_and_hr_both(client, make, login, world):
    make.user("admin@stadt.example", roles=(Role.ADMIN, Role.HR), with_employee=False)
    login("admin@stadt.example")
    links = _navigation(client)
    for path in ("/auth/users", "/status", "/reports/coverage", "/staff/employees", "/imports/"):
        assert path in links, path
    assert "/notifications/outbox" in links


def _navigation(client) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    nav = page[page.index('<nav class="main-nav"') : page.index("</nav>")]
    return re.findall(r'href="([^"]+)"', nav)


def test_a_head_sees_named_people_of_their_own_subtree_only(client, make, login, db):
    """Without a department chosen, the people list and its CSV hold the head's staff only."""
    city = make.department("D", name="Dezernat")
    own = make.department("D-OWN", name="Bürgeramt", parent=city)
    other = make.department("D-OTHER", name="Ordnungsamt", parent=city)
    course = make.course("IKK")
    requirement = Requirement(name="Basis", first_due_date=date(2020, 1, 1), courses=[course])
    requirement.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(requirement)
    make.employee(own, last_name="Eigene")
    stranger = make.employee(other, last_name="Fremde")
    db.session.add(
        Completion(
            employee=stranger, course=course, completed_on=date(2019, 1, 1), valid_until=None
        )
    )
    db.session.commit()
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(own,))
    login("leitung@stadt.example")
    listed = client.get("/reports/people", query_string={"status": ["overdue", "compliant"]})
    assert "Eigene" in listed.get_data(as_text=True)
    assert "Fremde" not in listed.get_data(as_text=True)
    exported = client.get("/reports/people.csv").get_data(as_text=True)
    assert "Eigene" in exported and "Fremde" not in exported
    assert client.get("/staff/departments/D-OTHER").status_code == 403
    assert client.get("/reports/people", query_string={"department": "D"}).status_code == 403


def test_the_role_page_offers_the_staff_council_and_data_protection(client, make, login, db):
    from app.auth.models import User

    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    form = client.get("/auth/users/new").get_data(as_text=True)
    assert 'value="staff_council"' in form and "Personalrat" in form
    assert 'value="data_protection"' in form and "Datenschutzbeauftragte(r)" in form
    response = client.post(
        "/auth/users/new",
        data={
            "csrf_token": csrf_token(client, "/auth/users/new"),
            "email": "personalrat@stadt.example",
            "password": "ein-langes-passwort",
            "roles": ["staff_council", "data_protection"],
            "active": "y",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "personalrat@stadt.example"))
    assert user.roles == {Role.STAFF_COUNCIL, Role.DATA_PROTECTION}
    listed = client.get("/auth/users").get_data(as_text=True)
    assert "Personalrat" in listed and "Datenschutzbeauftragte(r)" in listed

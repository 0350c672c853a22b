"""Admin manages logins and roles; users change their own password."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth import services
from app.auth.models import User, UserRole
from app.core.roles import Role
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def admin(make, login):
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")


def test_admin_creates_a_head_with_departments(client, make, db, admin):
    kb = make.department("D3-KB", name="Kinderbetreuung")
    person = make.employee(kb, personnel_number="100777")
    response = client.post(
        "/auth/users/new",
        data={
            "csrf_token": csrf_token(client, "/auth/users/new"),
            "email": "Leitung.KB@Stadt.example",
            "password": "ein-langes-passwort",
            "personnel_number": "100777",
            "roles": ["employee", "head"],
            "headed_departments": "D3-KB",
            "active": "y",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "leitung.kb@stadt.example"))
    assert user.roles == {Role.EMPLOYEE, Role.HEAD}
    assert user.employee_id == person.id
    assert [d.code for d in user.headed_departments] == ["D3-KB"]


def test_bad_user_form_says_what_is_wrong_and_changes_nothing(client, db, admin):
    response = client.post(
        "/auth/users/new",
        data={
            "csrf_token": csrf_token(client, "/auth/users/new"),
            "email": "neu@stadt.example",
            "password": "ein-langes-passwort",
            "personnel_number": "999999",
            "roles": ["head"],
            "headed_departments": "",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Bitte korrigieren Sie" in page
    assert db.session.scalar(select(User).where(User.email == "neu@stadt.example")) is None


def test_head_without_department_is_refused(db, make):
    with pytest.raises(services.HeadNeedsDepartment):
        services.create_user(
            db.session, email="k@stadt.example", password="ein-langes-passwort", roles=[Role.HEAD]
        )


def test_admin_edits_roles_and_locks_a_user(client, make, db, admin):
    user = make.user("erika@stadt.example")
    response = client.post(
        f"/auth/users/{user.id}",
        data={
            "csrf_token": csrf_token(client, f"/auth/users/{user.id}"),
            "email": "erika@stadt.example",
            "personnel_number": user.employee.personnel_number,
            "roles": ["employee", "hr"],
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.roles == {Role.EMPLOYEE, Role.HR}
    assert user.active is False


def test_non_admin_cannot_manage_users(client, make, login):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    assert client.get("/auth/users").status_code == 403
    assert client.get("/auth/users/new").status_code == 403


def test_change_password(client, make, login):
    make.user("erika@stadt.example")
    login("erika@stadt.example")
    form = {
        "csrf_token": csrf_token(client, "/auth/password"),
        "current_password": "falsch-falsch",
        "new_password": "neues-passwort-123",
        "confirm_password": "neues-passwort-123",
    }
    wrong = client.post("/auth/password", data=form)
    assert wrong.status_code == 200
    assert "Das aktuelle Passwort ist falsch." in wrong.get_data(as_text=True)
    form["current_password"] = DEFAULT_PASSWORD
    assert client.post("/auth/password", data=form).status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login("erika@stadt.example").status_code == 401
    assert login("erika@stadt.example", "neues-passwort-123").status_code == 302


def test_database_refuses_unknown_roles_and_duplicate_logins(db, make):
    user = make.user("erika@stadt.example")
    db.session.add(UserRole(user_id=user.id, role="kaiser"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(User(email="erika@stadt.example", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

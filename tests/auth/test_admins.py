"""The first admin of a real deployment (flask create-admin), and the last one who stays."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth import services
from app.auth.models import User
from app.core.roles import Role
from tests.conftest import csrf_token
from tests.courses.concurrent import run_at_once

NEW_PASSWORD = "ein-langes-passwort"


@pytest.fixture
def admin(make, login):
    user = make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    assert login("admin@stadt.example").status_code == 302
    return user


def edit_self(client, user, **fields):
    data = {
        "csrf_token": csrf_token(client, f"/auth/users/{user.id}"),
        "email": user.email,
        "roles": ["admin"],
        "active": "y",
        **fields,
    }
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(f"/auth/users/{user.id}", data=data)


def test_the_last_admin_cannot_remove_their_own_admin_role(client, db, admin):
    response = edit_self(client, admin, roles=["hr"])
    assert response.status_code == 200
    assert "letzte aktive Administrator" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.roles == {Role.ADMIN}


def test_the_last_admin_cannot_lock_themselves_out(client, db, admin):
    response = edit_self(client, admin, active=None)
    assert response.status_code == 200
    assert "letzte aktive Administrator" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active


def test_an_admin_may_step_down_when_another_active_admin_remains(client, db, make, admin):
    make.user("gesperrt@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    locked = db.session.scalar(select(User).where(User.email == "gesperrt@stadt.example"))
    locked.active = False  # a locked admin is no admin who could help
    db.session.commit()
    assert edit_self(client, admin, roles=["hr"]).status_code == 200

    make.user("zweite@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    assert edit_self(client, admin, roles=["hr"]).status_code == 302
    db.session.refresh(admin)
    assert admin.roles == {Role.HR}


def test_nobody_removes_or_locks_the_last_admin(db, make):
    only = make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    for roles, active in (([Role.HR], True), ([Role.ADMIN], False)):
        with pytest.raises(services.LastAdmin):
            services.update_user(
                db.session, only, roles=roles, employee=None, headed_departments=[], active=active
            )
        db.session.rollback()


def _demote(user_id: int):
    def job(db_session):
        user = db_session.get(User, user_id)
        services.update_user(
            db_session, user, roles=[Role.HR], employee=None, headed_departments=[], active=True
        )

    return job


@pytest.mark.parametrize("round_", range(3))
def test_two_admins_demoting_each_other_at_once_leave_one(app, db, make, round_):
    first = make.user("eins@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    second = make.user("zwei@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    errors = run_at_once(app, [_demote(first.id), _demote(second.id)])
    assert [type(error) for error in errors] == [services.LastAdmin]
    db.session.expire_all()
    admins = [user for user in db.session.scalars(select(User)) if Role.ADMIN in user.roles]
    assert len(admins) == 1


def test_create_admin_asks_for_a_password_and_the_admin_logs_in(app, db, login):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "Chefin@Stadt.example"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "chefin@stadt.example" in result.output
    user = db.session.scalar(select(User).where(User.email == "chefin@stadt.example"))
    assert user.roles == {Role.ADMIN} and user.active
    assert login("chefin@stadt.example", NEW_PASSWORD).status_code == 302


def test_create_admin_refuses_a_short_password_and_creates_nothing(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "chefin@stadt.example"], input="kurz\nkurz\n"
    )
    assert result.exit_code != 0
    assert "10" in result.output
    assert db.session.scalar(select(User)) is None


def test_create_admin_makes_an_existing_login_an_admin_and_unlocks_it(app, db, make):
    user = make.user("erika@stadt.example")
    user.active = False
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["create-admin", "erika@stadt.example"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.roles == {Role.EMPLOYEE, Role.ADMIN} and user.active
    assert user.employee is not None  # the rest of the login is kept

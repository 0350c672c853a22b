"""The rules every external login (directory, single sign-on) follows: linking, roles, refusals."""

from __future__ import annotations

import threading
import time

import pytest

from app.auth.models import IdentitySource, UserIdentity, UserRole
from app.auth.services.external import (
    LEAVER,
    LOCKED,
    NO_EMPLOYEE,
    ExternalAccount,
    ExternalLoginRefused,
    sign_in_external,
)
from app.core.roles import Role
from tests.courses.concurrent import run_at_once

MANAGED = frozenset({Role.HR, Role.ADMIN})


def account(subject: str = "uid=erika,ou=people,dc=stadt", **fields) -> ExternalAccount:
    fields.setdefault("managed_roles", MANAGED)
    return ExternalAccount(source=IdentitySource.DIRECTORY, subject=subject, **fields)


def test_first_login_creates_a_login_without_password_linked_by_personnel_number(make, db):
    erika = make.employee(personnel_number="4711", email="e.muster@stadt.example")
    user = sign_in_external(
        db.session, account(personnel_number="4711", email="Other@Stadt.example")
    )
    db.session.commit()
    assert user.employee == erika
    assert user.email == "other@stadt.example"
    assert not user.has_password and not user.check_password("")
    assert user.roles == {Role.EMPLOYEE}
    # The second login finds the same user through the identity, not by matching again.
    erika.personnel_number = "4712"
    db.session.commit()
    assert sign_in_external(db.session, account(personnel_number="nope")) == user
    assert db.session.query(UserIdentity).count() == 1


def test_without_personnel_number_the_e_mail_links_and_an_existing_local_login_is_reused(make, db):
    erika = make.employee(email="Erika.Muster@stadt.example")
    local = make.user("erika.muster@stadt.example", employee=erika)
    user = sign_in_external(db.session, account(email="erika.muster@STADT.example"))
    assert user == local and user.check_password("correct horse battery")


def test_an_e_mail_shared_by_two_records_links_neither(make, db):
    make.employee(email="team@stadt.example")
    make.employee(email="team@stadt.example")
    with pytest.raises(ExternalLoginRefused) as refused:
        sign_in_external(db.session, account(email="team@stadt.example"))
    assert refused.value.reason == NO_EMPLOYEE


def test_an_account_matching_nobody_is_refused_unless_a_group_grants_a_role(make, db):
    with pytest.raises(ExternalLoginRefused) as refused:
        sign_in_external(db.session, account(personnel_number="0000", email="x@stadt.example"))
    assert refused.value.reason == NO_EMPLOYEE
    hr = sign_in_external(
        db.session, account(email="hr-team@stadt.example", group_roles=frozenset({Role.HR}))
    )
    assert hr.roles == {Role.HR} and hr.employee is None


def test_staff_without_any_e_mail_get_a_login_name_that_is_never_mailed(make, db):
    make.employee(personnel_number="900", email=None)
    user = sign_in_external(db.session, account(personnel_number="900"))
    assert user.email == "ldap-900@personal.invalid"


def test_a_leaver_cannot_log_in_whatever_the_directory_says(make, db):
    erika = make.employee(personnel_number="4711")
    sign_in_external(db.session, account(personnel_number="4711"))
    erika.active = False
    db.session.commit()
    with pytest.raises(ExternalLoginRefused) as refused:
        sign_in_external(db.session, account(personnel_number="4711"))
    assert refused.value.reason == LEAVER
    with pytest.raises(ExternalLoginRefused):
        sign_in_external(db.session, account("uid=other", personnel_number="4711"))


def test_a_locked_login_stays_locked(make, db):
    erika = make.employee(personnel_number="4711")
    user = sign_in_external(db.session, account(personnel_number="4711"))
    user.active = False
    db.session.commit()
    with pytest.raises(ExternalLoginRefused) as refused:
        sign_in_external(db.session, account(personnel_number="4711"))
    assert refused.value.reason == LOCKED
    assert erika.active


def test_each_login_refreshes_the_managed_group_roles_and_keeps_head(make, db):
    top = make.department("DEZ")
    erika = make.employee(top, personnel_number="4711")
    user = make.user(employee=erika, roles=(Role.EMPLOYEE, Role.HEAD, Role.ADMIN), heads=(top,))
    hr = frozenset({Role.HR})
    user = sign_in_external(db.session, account(personnel_number="4711", group_roles=hr))
    assert user.roles == {Role.EMPLOYEE, Role.HEAD, Role.HR}
    user = sign_in_external(db.session, account(personnel_number="4711"))
    assert user.roles == {Role.EMPLOYEE, Role.HEAD}
    # Only the roles whose groups are configured are managed: admin given by hand stays.
    user.role_rows.append(UserRole(role=Role.ADMIN.value))
    db.session.commit()
    only_hr = account(personnel_number="4711", managed_roles=frozenset({Role.HR}))
    user = sign_in_external(db.session, only_hr)
    assert user.roles == {Role.EMPLOYEE, Role.HEAD, Role.ADMIN}


def test_two_first_logins_of_one_person_at_once_give_one_login(app, make, db):
    """Two nodes (or a double click) finishing the same person's first login: the second
    waits for the first's row, then logs in as the login the first created (no 500)."""
    make.employee(personnel_number="4711", email="erika@stadt.example")
    db.session.commit()
    first_flushed, first_may_commit = threading.Event(), threading.Event()
    users: dict[str, int] = {}
    errors: list[BaseException] = []

    def log_in(name: str, *, hold: bool) -> None:
        with app.app_context():
            try:
                user = sign_in_external(db.session, account(personnel_number="4711"))
                if hold:
                    first_flushed.set()
                    first_may_commit.wait(10)
                db.session.commit()
                users[name] = user.id
            except BaseException as error:  # asserted on below
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    first = threading.Thread(target=log_in, args=("first",), kwargs={"hold": True})
    first.start()
    assert first_flushed.wait(10)
    second = threading.Thread(target=log_in, args=("second",), kwargs={"hold": False})
    second.start()
    time.sleep(0.5)  # the second is now waiting for the first's uncommitted rows
    first_may_commit.set()
    first.join(20)
    second.join(20)
    assert errors == []
    assert users["first"] == users["second"]
    assert db.session.query(UserIdentity).count() == 1
    # And four at the very same moment.
    make.employee(personnel_number="4712")
    failures = run_at_once(
        app, [lambda s: sign_in_external(s, account("uid=other", personnel_number="4712"))] * 4
    )
    assert failures == []
    assert db.session.query(UserIdentity).count() == 2

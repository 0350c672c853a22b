"""Logging in through the directory: a real slapd with AD-like entries (tests/directory.py)."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import func, select

from app.auth.models import User, UserIdentity
from app.auth.services.directory import (
    DirectorySettings,
    WrongCredentials,
    read_directory_account,
)
from app.core.roles import Role
from tests.directory import (
    ADMIN_GROUP,
    HR_GROUP,
    PEOPLE,
    password_of,
    person_dn,
    set_attribute,
    set_group_members,
)

WRONG = "E-Mail-Adresse, Benutzername oder Passwort ist falsch."
UNREACHABLE = "Der Verzeichnisdienst ist nicht erreichbar"


def users(db) -> list[User]:
    db.session.expire_all()
    return list(db.session.scalars(select(User).order_by(User.id)))


def logged_in(client) -> bool:
    return client.get("/").status_code == 200


def test_the_login_page_asks_for_e_mail_or_user_name_when_a_directory_is_configured(
    client, directory
):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "E-Mail-Adresse oder Benutzername" in page
    assert "Benutzername und Passwort Ihres Dienstrechners" in page


def test_without_a_directory_the_login_page_asks_for_the_e_mail_address(client, app):
    assert not app.config["LDAP_URL"]
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Benutzername" not in page and "E-Mail-Adresse" in page


def test_first_login_creates_the_user_linked_by_personnel_number_and_the_second_reuses_it(
    client, login, make, db, directory
):
    aylin = make.employee(personnel_number="000123", first_name="Aylin", email=None)
    response = login("ademir", password_of("ademir"))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Hallo" in client.get("/").get_data(as_text=True)
    [user] = users(db)
    assert user.employee_id == aylin.id
    assert user.email == "aylin.demir@stadt.example"  # from the directory's mail attribute
    assert not user.has_password and user.roles == {Role.EMPLOYEE}
    client.post("/auth/logout", data={"csrf_token": _token(client)})

    assert login("ADemir ", password_of("ademir")).status_code == 302
    assert [u.id for u in users(db)] == [user.id]
    assert db.session.scalar(select(func.count()).select_from(UserIdentity)) == 1


def test_a_renamed_directory_entry_keeps_its_login_by_its_entry_uuid(
    client, login, make, db, directory
):
    make.employee(personnel_number="000123")
    assert login("ademir", password_of("ademir")).status_code == 302
    client.post("/auth/logout", data={"csrf_token": _token(client)})
    with directory.admin() as admin:
        assert admin.modify_dn(person_dn("ademir"), "cn=aylin-yilmaz"), admin.result
    try:
        assert login("ademir", password_of("ademir")).status_code == 302
        identities = db.session.scalars(select(UserIdentity)).all()
        assert len(identities) == 1 and "=" not in identities[0].subject  # not a DN
    finally:
        with directory.admin() as admin:
            admin.modify_dn(f"cn=aylin-yilmaz,{PEOPLE}", "cn=ademir")


def test_without_a_personnel_number_the_e_mail_links_the_employee(login, make, db, directory):
    set_attribute(directory, person_dn("jkoch"), "employeeID", "nicht-in-der-liste")
    jana = make.employee(email="Jana.Koch@stadt.example")
    assert login("jkoch", password_of("jkoch")).status_code == 302
    [user] = users(db)
    assert user.employee_id == jana.id


def test_other_directories_log_in_by_uid_or_mail_with_employee_number(
    client, login, make, db, directory, app
):
    app.config.update(LDAP_LOGIN_ATTRIBUTE="uid", LDAP_PERSONNEL_NUMBER_ATTRIBUTE="employeeNumber")
    aylin = make.employee(personnel_number="000123", email=None)
    assert login("ademir", password_of("ademir")).status_code == 302
    client.post("/auth/logout", data={"csrf_token": _token(client)})
    app.config["LDAP_LOGIN_ATTRIBUTE"] = "mail"
    assert login("Aylin.Demir@stadt.example", password_of("ademir")).status_code == 302
    [user] = users(db)
    assert user.employee_id == aylin.id


def test_a_local_password_keeps_working_beside_the_directory(client, login, make, db, directory):
    make.user("personal@stadt.example", roles=(Role.HR,), with_employee=False)
    assert login("personal@stadt.example").status_code == 302
    assert logged_in(client)


def test_a_person_with_a_local_login_gets_the_same_login_through_the_directory(
    client, login, make, db, directory
):
    aylin = make.employee(personnel_number="000123")
    local = make.user("aylin@stadt.example", employee=aylin)
    assert login("ademir", password_of("ademir")).status_code == 302
    client.post("/auth/logout", data={"csrf_token": _token(client)})
    assert login("aylin@stadt.example").status_code == 302  # the local password still works
    assert [u.id for u in users(db)] == [local.id]


def test_each_login_refreshes_the_roles_from_the_groups(client, login, make, db, directory):
    make.employee(personnel_number="000456", email="max.schulz@stadt.example")
    assert login("mschulz", password_of("mschulz")).status_code == 302
    assert users(db)[0].roles == {Role.EMPLOYEE, Role.HR}
    assert client.get("/requirements/").status_code == 200
    client.post("/auth/logout", data={"csrf_token": _token(client)})

    set_group_members(directory, HR_GROUP, remove=[person_dn("mschulz")])
    set_group_members(directory, ADMIN_GROUP, add=[person_dn("mschulz")])
    assert login("mschulz", password_of("mschulz")).status_code == 302
    assert users(db)[0].roles == {Role.EMPLOYEE, Role.ADMIN}
    assert client.get("/requirements/").status_code == 403


def test_groups_can_be_read_from_their_member_attribute(login, make, db, directory, app):
    app.config["LDAP_GROUP_MEMBERSHIP"] = "member"
    make.employee(personnel_number="000456")
    set_group_members(directory, ADMIN_GROUP, add=[person_dn("mschulz")])
    assert login("mschulz", password_of("mschulz")).status_code == 302
    assert users(db)[0].roles == {Role.EMPLOYEE, Role.HR, Role.ADMIN}


def test_a_group_role_lets_someone_in_who_is_not_on_the_staff_list(client, login, db, directory):
    assert login("extern", password_of("extern")).status_code == 302
    [user] = users(db)
    assert user.employee is None and user.roles == {Role.HR}


def test_an_account_disabled_in_the_directory_cannot_log_in(client, login, make, db, directory):
    make.employee(personnel_number="000789")
    response = login("ngashi", password_of("ngashi"))
    assert response.status_code == 403
    assert "Ihr Konto im Verzeichnisdienst ist deaktiviert" in response.get_data(as_text=True)
    assert users(db) == [] and not logged_in(client)


def test_an_account_outside_the_configured_filter_cannot_log_in(login, make, db, directory, app):
    app.config["LDAP_USER_FILTER"] = "(employeeType=aktiv)"
    make.employee(personnel_number="000999")
    response = login("jkoch", password_of("jkoch"))
    assert response.status_code == 403
    assert "deaktiviert" in response.get_data(as_text=True)
    set_attribute(directory, person_dn("jkoch"), "employeeType", "aktiv")
    assert login("jkoch", password_of("jkoch")).status_code == 302


def test_a_leaver_cannot_log_in_whatever_the_directory_says(client, login, make, db, directory):
    aylin = make.employee(personnel_number="000123")
    assert login("ademir", password_of("ademir")).status_code == 302
    client.post("/auth/logout", data={"csrf_token": _token(client)})
    aylin.active = False
    db.session.commit()
    response = login("ademir", password_of("ademir"))
    assert response.status_code == 403
    assert "nicht mehr in der Personalliste" in response.get_data(as_text=True)
    assert not logged_in(client)


def test_an_account_matching_no_employee_is_refused(client, login, make, db, directory):
    make.employee(personnel_number="4711", email="jemand@stadt.example")
    response = login("jkoch", password_of("jkoch"))
    assert response.status_code == 403
    assert "passt zu niemandem in der Personalliste" in response.get_data(as_text=True)
    assert users(db) == [] and not logged_in(client)


def test_wrong_password_and_unknown_user_give_the_same_answer(client, login, make, db, directory):
    make.employee(personnel_number="000123")
    wrong_password = login("ademir", "falsches-Passwort")
    unknown_user = login("niemand", "falsches-Passwort")
    assert wrong_password.status_code == unknown_user.status_code == 401
    for response in (wrong_password, unknown_user):
        assert WRONG in response.get_data(as_text=True)
    assert users(db) == [] and not logged_in(client)


@pytest.mark.parametrize("name", ["*)(uid=*", "*", "ademir)(|(uid=*", "ademir\\"])
def test_filter_characters_in_the_login_name_find_nobody(client, login, make, db, directory, name):
    make.employee(personnel_number="000123")
    response = login(name, password_of("ademir"))
    assert response.status_code == 401
    assert WRONG in response.get_data(as_text=True)
    assert users(db) == []


def test_an_empty_password_is_never_sent_as_a_bind(directory, app):
    settings = DirectorySettings.from_config(app.config)
    assert settings is not None
    for password in ("", None):
        with pytest.raises(WrongCredentials):
            read_directory_account(settings, login="ademir", password=password or "")


def test_a_blank_password_on_the_form_is_refused_before_the_directory(client, login, directory):
    for blank in ("", "   "):
        assert login("ademir", blank).status_code == 200  # the form again, with its error
        assert not logged_in(client)


def test_an_unreachable_directory_gives_a_message_and_local_logins_still_work(
    client, login, make, db, directory, app
):
    app.config["LDAP_URL"] = f"ldap://127.0.0.1:{_closed_port()}"
    app.config["LDAP_TIMEOUT"] = 2
    make.employee(personnel_number="000123")
    response = login("ademir", password_of("ademir"))
    assert response.status_code == 503
    assert UNREACHABLE in response.get_data(as_text=True)
    assert not logged_in(client)

    make.user("erika@stadt.example")
    assert login("erika@stadt.example").status_code == 302
    assert logged_in(client)


def test_a_refused_service_account_gives_the_unreachable_message(login, make, directory, app):
    app.config["LDAP_BIND_PASSWORD"] = "no-longer-valid"
    make.employee(personnel_number="000123")
    response = login("ademir", password_of("ademir"))
    assert response.status_code == 503
    assert UNREACHABLE in response.get_data(as_text=True)


def test_a_directory_that_accepts_but_never_answers_times_out_with_the_message(
    client, login, make, directory, app
):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections are accepted by the kernel, never answered
        app.config["LDAP_URL"] = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        app.config["LDAP_TIMEOUT"] = 1
        make.employee(personnel_number="000123")
        started = time.monotonic()
        response = login("ademir", password_of("ademir"))
    assert response.status_code == 503
    assert UNREACHABLE in response.get_data(as_text=True)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("name", ["ad\x00emir", "ademir\n", "a" * 255])
def test_login_names_no_directory_or_database_takes_are_refused_on_the_form(
    client, login, directory, name
):
    response = login(name, password_of("ademir"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Der Anmeldename" in page and not logged_in(client)


def test_a_password_with_characters_no_password_holds_is_a_wrong_password(
    client, login, make, directory
):
    make.employee(personnel_number="000123")
    response = login("ademir", "Aylins\x00Passwort")
    assert response.status_code == 401
    assert WRONG in response.get_data(as_text=True)


def test_logins_go_over_start_tls_and_ldaps_with_the_city_s_ca(login, client, make, directory, app):
    make.employee(personnel_number="000123")
    app.config.update(LDAP_START_TLS=True, LDAP_CA_FILE=directory.ca_file)
    assert login("ademir", password_of("ademir")).status_code == 302
    client.post("/auth/logout", data={"csrf_token": _token(client)})
    app.config.update(LDAP_START_TLS=False, LDAP_URL=directory.ldaps_url)
    assert login("ademir", password_of("ademir")).status_code == 302


def test_a_certificate_from_an_unknown_ca_is_refused(login, client, make, directory, app):
    make.employee(personnel_number="000123")
    app.config.update(LDAP_START_TLS=True, LDAP_CA_FILE=None)  # only the system's CAs
    response = login("ademir", password_of("ademir"))
    assert response.status_code == 503
    assert UNREACHABLE in response.get_data(as_text=True)
    assert not logged_in(client)


def test_directory_logins_are_throttled_like_local_ones(login, make, directory):
    make.employee(personnel_number="000123")
    statuses = [login("ademir", "falsches-Passwort").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert login("ademir", password_of("ademir")).status_code == 429


def _token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

from app.core.roles import Role
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD


def test_login_and_logout(client, make, login):
    make.user("erika@stadt.example")
    response = login("Erika@Stadt.example ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Hallo" in client.get("/").get_data(as_text=True)

    token = csrf_token(client, "/")
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the login page


def test_wrong_password_and_unknown_account_give_the_same_answer(client, make, login):
    make.user("erika@stadt.example")
    wrong_password = login("erika@stadt.example", "falsch-falsch")
    unknown_account = login("niemand@stadt.example", "falsch-falsch")
    assert wrong_password.status_code == unknown_account.status_code == 401
    message = "E-Mail-Adresse oder Passwort ist falsch."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_account.get_data(as_text=True)


def test_locked_user_cannot_log_in(make, login, db):
    user = make.user("gesperrt@stadt.example")
    user.active = False
    db.session.commit()
    assert login("gesperrt@stadt.example").status_code == 401


def test_login_is_throttled_per_account(make, login):
    make.user("erika@stadt.example")
    statuses = [login("erika@stadt.example", "falsch-falsch").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # Even the right password is refused while the limit holds.
    assert login("erika@stadt.example").status_code == 429


def test_throttled_page_explains_itself(make, login):
    for _ in range(5):
        login("x@stadt.example", "falsch-falsch")
    response = login("x@stadt.example", "falsch-falsch")
    assert response.status_code == 429
    assert "Zu viele Versuche" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_rejected(client, make):
    make.user("erika@stadt.example")
    client.get("/auth/login")
    response = client.post(
        "/auth/login", data={"email": "erika@stadt.example", "password": "correct horse battery"}
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not logged in


def test_open_redirects_are_refused(client, make, login):
    make.user("erika@stadt.example")
    for target in (
        "//evil.example",
        "http:evil.example",
        "/\t/evil.example",
        "https://evil.example/",
        "/\\evil.example",
    ):
        client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
        token_page = "/auth/login?next=" + target

        token = csrf_token(client, token_page)
        response = client.post(
            "/auth/login",
            query_string={"next": target},
            data={
                "email": "erika@stadt.example",
                "password": "correct horse battery",
                "csrf_token": token,
            },
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})


def test_local_next_is_followed(client, make, login):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)

    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        query_string={"next": "/staff/employees?q=a"},
        data={"email": "hr@stadt.example", "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/staff/employees?q=a"


def test_login_is_throttled_per_address_across_accounts(login):
    statuses = [login(f"person{n}@stadt.example", "falsch-falsch").status_code for n in range(9)]
    assert statuses[:8] == [401] * 8
    assert statuses[8] == 429

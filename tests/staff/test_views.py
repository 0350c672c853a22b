import pytest

from app.core.roles import Role


@pytest.fixture
def tree(make):
    d3 = make.department("D3", name="Dezernat III")
    kb = make.department("D3-KB", name="Kinderbetreuung", parent=d3)
    kita = make.department("D3-KB-A", name="Kita Buchenbusch", parent=kb)
    d2 = make.department("D2", name="Dezernat II")
    ba = make.department("D2-BA", name="Bürgeramt", parent=d2)
    make.employee(kita, last_name="Schmidt")
    make.employee(ba, last_name="Öztürk")
    return {"d3": d3, "kb": kb, "kita": kita, "d2": d2, "ba": ba}


def test_head_sees_only_their_subtree(client, make, login, tree):
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(tree["kb"],))
    login("leitung@stadt.example")
    page = client.get("/staff/departments").get_data(as_text=True)
    assert "Kita Buchenbusch" in page
    assert "Bürgeramt" not in page
    assert client.get("/staff/departments/D3-KB-A").status_code == 200
    assert "Schmidt" in client.get("/staff/departments/D3-KB").get_data(as_text=True)


def test_head_gets_403_outside_their_subtree(client, make, login, tree):
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(tree["kb"],))
    login("leitung@stadt.example")
    assert client.get("/staff/departments/D2-BA").status_code == 403
    assert client.get("/staff/departments/D3").status_code == 403  # the parent is outside too
    assert client.get("/staff/departments/NOPE").status_code == 404


def test_employee_cannot_open_staff_pages(client, make, login, tree):
    make.user("erika@stadt.example")
    login("erika@stadt.example")
    for path in ("/staff/departments", "/staff/departments/D3", "/staff/employees", "/auth/users"):
        assert client.get(path).status_code == 403, path


def test_hr_sees_the_whole_city(client, make, login, tree):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    page = client.get("/staff/employees").get_data(as_text=True)
    assert "Schmidt" in page and "Öztürk" in page
    assert client.get("/staff/departments/D2-BA").status_code == 200
    found = client.get("/staff/employees", query_string={"q": "öztürk"}).get_data(as_text=True)
    assert "Öztürk" in found and "Schmidt" not in found


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/staff/employees")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")

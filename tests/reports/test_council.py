"""The staff council's figures: coverage of the city and its departments without a name, and
departments with fewer people than the minimum group size merged into the one above."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from app.core.clock import local_today
from app.core.roles import Role
from app.courses.models import Completion
from app.reports.council import merge_small_groups, protected_coverage
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from tests.conftest import csrf_token

TODAY = date(2026, 6, 15)


@pytest.fixture
def tree(db, make):
    """Basis is overdue for everyone without a completion. With a minimum of 3:

    Dezernat I (D1)          2 people (1 trained)           + B + C + C-X merged in -> 5
    ├── Amt A (A)            3 people (none trained)        + A-K merged in        -> 4
    │   └── Kleine Stelle (A-K)  1 person (trained)         too small: into Amt A
    ├── Amt B (B)            1 person                       too small: into D1
    └── Amt C (C)            1 person                       with C-X still 2: into D1
        └── Außenstelle (C-X)    1 person (trained)         too small: into Amt C
    """
    d1 = make.department("D1", name="Dezernat I")
    a = make.department("A", name="Amt A", parent=d1)
    ak = make.department("A-K", name="Kleine Stelle", parent=a)
    b = make.department("B", name="Amt B", parent=d1)
    c = make.department("C", name="Amt C", parent=d1)
    cx = make.department("C-X", name="Außenstelle", parent=c)
    course = make.course("IKK", title="Interkulturelle Kompetenz")
    basis = Requirement(name="Basis", first_due_date=date(2026, 1, 1), courses=[course])
    basis.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(basis)
    trained = [make.employee(d1, last_name="Dora"), make.employee(d1, last_name="Dieter")][:1]
    for n in range(3):
        make.employee(a, last_name=f"Anton{n}")
    trained.append(make.employee(ak, last_name="Kurt"))
    make.employee(b, last_name="Berta")
    make.employee(c, last_name="Cäsar")
    trained.append(make.employee(cx, last_name="Xaver"))
    for person in trained:
        db.session.add(
            Completion(
                employee=person,
                course=course,
                completed_on=date(2026, 2, 1),
                valid_until=date(2029, 1, 31),
            )
        )
    db.session.commit()
    return {"d1": d1, "a": a, "ak": ak, "b": b, "c": c, "cx": cx, "basis": basis}


def figures(db, minimum: int, today: date = TODAY):
    (only,) = protected_coverage(db.session, today=today, due_soon_days=30, min_group_size=minimum)
    return only


def numbers(row) -> tuple[int, int, int]:
    return row.in_scope, row.covered, row.overdue


def test_small_departments_are_merged_upwards_and_the_totals_stay(db, tree):
    shown = figures(db, 3)
    assert [(r.department.code, numbers(r)) for r in shown.departments] == [
        ("D1", (5, 2, 3)),  # own 2 (1 trained), Amt B, Amt C and its Außenstelle (trained)
        ("A", (4, 1, 3)),  # own 3, and the Kleine Stelle (trained)
    ]
    assert shown.merged_into == {tree["d1"].id, tree["a"].id}
    assert shown.others is None
    assert numbers(shown.city) == (9, 3, 6)
    assert sum(r.in_scope for r in shown.departments) == shown.city.in_scope
    assert not shown.city_too_small


def test_with_a_minimum_of_one_every_department_shows_its_own_people(db, tree):
    shown = figures(db, 1)
    assert [(r.department.code, r.in_scope) for r in shown.departments] == [
        ("D1", 2), ("A", 3), ("A-K", 1), ("B", 1), ("C", 1), ("C-X", 1),
    ]  # fmt: skip
    assert shown.merged_into == set()


def test_the_whole_city_below_the_minimum_is_shown_as_one_figure(db, tree):
    shown = figures(db, 10)
    assert shown.departments == [] and shown.others is None
    assert numbers(shown.city) == (9, 3, 6)
    assert shown.city_too_small


ZEROS = [0] * 7


def size(n: int, covered: int = 0) -> list[int]:
    """Numbers in the order of MEASURES for ``n`` people in scope."""
    return [n, covered, 0, n - covered, 0, 0, covered]


def test_a_small_top_department_takes_the_smallest_other_with_it():
    """Dezernat II alone would be the difference of the city and the rows shown, so the
    smallest shown area goes with it into "smaller areas together"."""
    parents = {1: None, 2: None, 3: None}
    shown, merged_into, others = merge_small_groups(
        {1: size(3, 1), 2: size(1), 3: size(4, 4)}, parents, depth_first=[1, 2, 3], minimum=3
    )
    assert shown == {3: size(4, 4)}
    assert others == [4, 1, 0, 3, 0, 0, 1]
    assert merged_into == set()


def test_exempt_people_count_towards_the_size_of_a_group():
    shown, _merged, others = merge_small_groups(
        {1: [2, 2, 0, 0, 0, 1, 2]}, {1: None}, depth_first=[1], minimum=3
    )
    assert shown == {1: [2, 2, 0, 0, 0, 1, 2]} and others == ZEROS


def test_the_small_departments_name_and_figures_are_not_on_the_council_page(
    client, make, login, tree, app, monkeypatch
):
    monkeypatch.setitem(app.config, "MIN_GROUP_SIZE", 3)
    make.user("personalrat@stadt.example", roles=(Role.STAFF_COUNCIL,), with_employee=False)
    login("personalrat@stadt.example")
    page = client.get("/reports/council/coverage").get_data(as_text=True)
    assert "Dezernat I" in page and "Amt A" in page
    for hidden in ("Kleine Stelle", "Amt B", "Amt C", "Außenstelle"):
        assert hidden not in page
    for name in ("Dora", "Anton0", "Kurt", "Berta", "Xaver"):
        assert name not in page
    assert "9" in page and "33,3 %" in page  # the city: 3 of 9
    assert "40 %" in page and "25 %" in page  # Dezernat I 2 of 5, Amt A 1 of 4


def test_the_council_csv_has_the_figures_and_no_small_department(
    client, make, login, tree, app, monkeypatch
):
    monkeypatch.setitem(app.config, "MIN_GROUP_SIZE", 3)
    make.user("personalrat@stadt.example", roles=(Role.STAFF_COUNCIL,), with_employee=False)
    login("personalrat@stadt.example")
    response = client.get("/reports/council/coverage.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Schulungsquoten" and "weniger als 3 Personen" in rows[1][0]
    header, *figures = rows[3:]
    assert header[:3] == ["Pflichtschulung", "Organisationseinheit", "Im Geltungsbereich"]
    assert [row[:3] for row in figures] == [
        ["Basis", "Gesamte Stadt", "9"],
        ["Basis", "Dezernat I", "5"],
        ["Basis", "Amt A", "4"],
    ]
    assert figures[0][8:] == ["33,3", "33,3", ""]
    assert figures[1][8:] == ["40", "40", "ja"]  # with the smaller units below
    for hidden in ("Kleine Stelle", "Amt B", "Außenstelle", "Kurt", "Berta"):
        assert hidden not in text


def test_the_staff_council_sees_no_named_data(client, make, login, tree):
    make.user("personalrat@stadt.example", roles=(Role.STAFF_COUNCIL,), with_employee=False)
    login("personalrat@stadt.example")
    for path in (
        "/reports/coverage",
        "/reports/people",
        "/reports/people.csv",
        "/reports/people.xlsx",
        "/reports/coverage.pdf",
        "/staff/departments",
        "/staff/employees",
        "/imports/",
        "/notifications/outbox",
        "/auth/users",
    ):
        assert client.get(path).status_code == 403, path
    home = client.get("/").get_data(as_text=True)
    nav = home[home.index('<nav class="main-nav"') : home.index("</nav>")]
    assert "/reports/council/" in nav
    assert "/reports/coverage" not in nav and "/staff/" not in nav
    start = client.get("/reports/council/").get_data(as_text=True)
    assert "/reports/council/coverage" in start and "/reports/council/coverage.csv" in start


@pytest.mark.parametrize(
    "roles", [(Role.EMPLOYEE,), (Role.HEAD,), (Role.ADMIN,), (Role.DATA_PROTECTION,)]
)
def test_only_the_staff_council_opens_its_pages(client, make, login, tree, roles):
    make.user(
        "someone@stadt.example",
        roles=roles,
        heads=(tree["d1"],) if Role.HEAD in roles else (),
        with_employee=Role.EMPLOYEE in roles,
    )
    login("someone@stadt.example")
    for path in ("/reports/council/", "/reports/council/coverage", "/reports/council/coverage.csv"):
        assert client.get(path).status_code == 403, path


def test_the_council_sees_the_city_trend_and_picks_a_requirement(client, db, make, login, tree):
    from app.reports.models import CoverageSnapshot

    other = Requirement(
        name="Auffrischung", first_due_date=local_today() + timedelta(days=300), courses=[]
    )
    other.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(other)
    for months, covered in ((2, 1), (1, 2)):
        db.session.add(
            CoverageSnapshot(
                taken_on=local_today() - timedelta(days=30 * months),
                department_id=None,
                requirement_id=tree["basis"].id,
                in_scope=9,
                covered=covered,
                overdue=9 - covered,
                due_soon=0,
                exempt=0,
            )
        )
    db.session.commit()
    make.user("personalrat@stadt.example", roles=(Role.STAFF_COUNCIL,), with_employee=False)
    login("personalrat@stadt.example")
    page = client.get("/reports/council/coverage").get_data(as_text=True)
    assert "Auffrischung" in page and "Basis" in page
    basis = client.get(
        "/reports/council/coverage", query_string={"requirement": tree["basis"].id}
    ).get_data(as_text=True)
    assert "<polyline" in basis  # the city's trend
    assert client.get("/reports/council/coverage?requirement=999999").status_code == 404
    # The page works in English too.
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    assert "Whole city" in client.get("/reports/council/coverage").get_data(as_text=True)

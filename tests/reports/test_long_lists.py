"""A Fachbereich of many departments: the head's coverage page, the people overdue and the
department pages show a page of them, and the totals still count them all."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.core.clock import local_today
from app.core.roles import Role
from app.courses.models import Completion
from app.extensions import db as _db
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from app.staff.models import Employee
from app.staff.services import create_department

#: Sub-departments of the large unit, and people in each.
UNITS = 60
PEOPLE = 2


@pytest.fixture
def large_unit(make):
    """Fachbereich Kitas (FB) with 60 Kitas of two people each, one of them trained; a small
    Fachbereich beside it; the head of both."""
    top = make.department("D3", name="Dezernat III")
    unit = make.department("FB", name="Fachbereich Kitas", parent=top)
    small = make.department("SM", name="Kleiner Fachbereich", parent=top)
    make.department("SM-1", name="Kleine Abteilung", parent=small)
    course = make.course("IKK")
    rule = Requirement(
        name="Basis", first_due_date=local_today() - timedelta(days=10), courses=[course]
    )
    rule.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    _db.session.add(rule)
    for n in range(UNITS):
        kita = create_department(_db.session, code=f"FB-{n:02d}", name=f"Kita {n:02d}", parent=unit)
        for k in range(PEOPLE):
            person = Employee(
                personnel_number=f"K{n:02d}{k}",
                first_name="Vorname",
                last_name=f"Erzieherin {n:02d}-{k}",
                department=kita,
                active=True,
                entry_date=date(2020, 1, 1),
            )
            _db.session.add(person)
            if k == 0:
                _db.session.add(
                    Completion(employee=person, course=course, completed_on=local_today())
                )
    _db.session.commit()
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(top,))
    return unit


def _department_rows(html: str) -> list[str]:
    return re.findall(r'<a href="/reports/coverage\?department=(FB-\d\d)">', html)


def test_coverage_of_a_unit_with_60_departments_shows_a_page_of_them_with_the_total(
    app, client, login, large_unit
):
    login("leitung@stadt.example")
    per_page = app.config["DEPARTMENTS_PER_PAGE"]
    first = client.get("/reports/coverage?department=FB").get_data(as_text=True)
    assert _department_rows(first) == [f"FB-{n:02d}" for n in range(per_page)]
    assert "60 Untereinheiten (1–25 angezeigt)" in first
    # The unit's own row counts all 120 people on every page, half of them trained.
    own = r"Fachbereich Kitas \(mit allen Untereinheiten\)</th>\s*<td class=\"num\">120</td>"
    assert re.search(own, first)
    assert "50 %" in first

    shown = []
    for number in (1, 2, 3):
        html = client.get(f"/reports/coverage?department=FB&departments_page={number}")
        text = html.get_data(as_text=True)
        assert re.search(own, text)
        assert f'departments_page={number}" aria-current="page"' in text
        shown += _department_rows(text)
    assert shown == [f"FB-{n:02d}" for n in range(UNITS)]
    beyond = client.get("/reports/coverage?department=FB&departments_page=4")
    assert beyond.status_code == 404


def test_the_page_links_of_requirements_keep_the_page_of_departments_and_back(
    app, client, login, make, large_unit
):
    other = Requirement(name="Zweite Pflicht", first_due_date=local_today(), courses=[])
    other.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    _db.session.add(other)
    _db.session.commit()
    login("leitung@stadt.example")
    app.config["COVERAGE_REQUIREMENTS_PER_PAGE"] = 1
    try:
        html = client.get("/reports/coverage?department=FB&departments_page=2").get_data(
            as_text=True
        )
        second = client.get("/reports/coverage?department=FB&departments_page=2&page=2")
    finally:
        app.config["COVERAGE_REQUIREMENTS_PER_PAGE"] = 10
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', html)]
    assert "/reports/coverage?department=FB&departments_page=2&page=2" in links
    assert "/reports/coverage?department=FB&departments_page=3" in links
    assert _department_rows(html) == _department_rows(second.get_data(as_text=True))
    assert _department_rows(html)[0] == "FB-25"


def test_the_people_overdue_in_a_large_unit_come_a_page_at_a_time(app, client, login, large_unit):
    login("leitung@stadt.example")
    per_page = app.config["PEOPLE_PER_PAGE"]
    path = "/reports/people?department=FB&status=overdue"
    first = client.get(path).get_data(as_text=True)
    names = re.findall(r"Erzieherin (\d\d-1), Vorname", first)
    assert len(names) == per_page
    assert "60 Personen (1–50 angezeigt)" in first
    seen = []
    for number in (1, 2):
        html = client.get(f"{path}&page={number}").get_data(as_text=True)
        seen += re.findall(r"Erzieherin (\d\d-\d), Vorname", html)
    assert seen == [f"{n:02d}-1" for n in range(UNITS)]  # the untrained half, each once
    assert client.get(f"{path}&page=3").status_code == 404

    found = client.get(f"{path}&q=erzieherin+42").get_data(as_text=True)
    assert re.findall(r"Erzieherin (\d\d-\d), Vorname", found) == ["42-1"]
    # The search keeps the filters it narrows: the status and the department.
    assert '<input type="hidden" name="status" value="overdue">' in found
    assert '<input type="hidden" name="department" value="FB">' in found


def test_a_department_page_lists_a_page_of_its_sub_departments(app, client, login, large_unit):
    login("leitung@stadt.example")
    per_page = app.config["DEPARTMENTS_PER_PAGE"]
    first = client.get("/staff/departments/FB").get_data(as_text=True)
    listed = re.findall(r'<a href="/staff/departments/(FB-\d\d)">', first)
    assert listed == [f"FB-{n:02d}" for n in range(per_page)]
    assert "60 Untereinheiten (1–25 angezeigt)" in first
    last = client.get("/staff/departments/FB?departments_page=3").get_data(as_text=True)
    assert re.findall(r'<a href="/staff/departments/(FB-\d\d)">', last) == [
        f"FB-{n:02d}" for n in range(50, UNITS)
    ]
    assert "2 Beschäftigte" in last  # each with its headcount


def test_the_department_tree_folds_a_unit_with_more_departments_than_a_page(
    client, login, large_unit
):
    login("leitung@stadt.example")
    tree = client.get("/staff/departments").get_data(as_text=True)
    assert "Fachbereich Kitas" in tree and "Kita 00" not in tree
    assert "60 Untereinheiten" in tree
    assert 'href="/staff/departments/FB#subdepartments"' in tree
    assert "Kleine Abteilung" in tree  # a small unit's departments are still listed
    totals = re.search(r"Fachbereich Kitas</a>.*?</tr>", tree, flags=re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', totals) == ["0", "120"]

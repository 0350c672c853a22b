import pytest
from sqlalchemy import select

from app.staff import services
from app.staff.models import Department


@pytest.fixture
def city(make):
    """Dezernat III > Kinderbetreuung > Kita A / Kita B, and Dezernat II > Bürgeramt."""
    d3 = make.department("D3", name="Dezernat III")
    kb = make.department("D3-KB", name="Kinderbetreuung", parent=d3)
    kita_a = make.department("D3-KB-A", name="Kita A", parent=kb)
    kita_b = make.department("D3-KB-B", name="Kita B", parent=kb)
    d2 = make.department("D2", name="Dezernat II")
    buergeramt = make.department("D2-BA", name="Bürgeramt", parent=d2)
    return {"d3": d3, "kb": kb, "kita_a": kita_a, "kita_b": kita_b, "d2": d2, "ba": buergeramt}


def codes(departments):
    return sorted(d.code for d in departments)


def test_paths_and_depths_follow_the_tree(city):
    assert city["d3"].depth == 0
    assert city["kita_a"].depth == 2
    assert city["kita_a"].path == f"/{city['d3'].id}/{city['kb'].id}/{city['kita_a'].id}/"


def test_subtree_contains_descendants_only(db, city):
    assert codes(services.list_subtree(db.session, [city["kb"]])) == ["D3-KB", "D3-KB-A", "D3-KB-B"]
    assert codes(services.list_subtree(db.session, [city["kita_a"], city["ba"]])) == [
        "D2-BA",
        "D3-KB-A",
    ]
    assert services.list_subtree(db.session, []) == []


def test_prefix_of_an_id_is_not_a_subtree(db, make):
    """Department 1 must not claim department 11 or 12 as its children."""
    first = make.department("X1")
    others = [make.department(f"X{n}") for n in range(2, 13)]
    assert any(str(d.id).startswith(str(first.id)) and d.id != first.id for d in others)
    assert codes(services.list_subtree(db.session, [first])) == ["X1"]


def test_ancestors_from_root_down(db, city):
    assert [d.code for d in services.ancestors(db.session, city["kita_b"])] == ["D3", "D3-KB"]
    assert services.ancestors(db.session, city["d3"]) == []


def test_headcounts_roll_up_the_tree_in_sql(db, make, city):
    for _ in range(3):
        make.employee(city["kita_a"])
    make.employee(city["kita_b"])
    make.employee(city["kb"])
    make.employee(city["kita_b"], active=False)
    counts = services.headcounts(db.session, [city["d3"], city["kb"], city["kita_b"], city["d2"]])
    assert counts[city["d3"].id] == (0, 5)
    assert counts[city["kb"].id] == (1, 5)
    assert counts[city["kita_b"].id] == (1, 1)
    assert counts[city["d2"].id] == (0, 0)


def test_moving_a_department_moves_its_subtree(db, city):
    services.move_department(db.session, city["kb"], city["d2"])
    db.session.commit()
    kita_a = db.session.get(Department, city["kita_a"].id)
    assert kita_a.path.startswith(city["d2"].path)
    assert kita_a.depth == 2
    assert codes(services.list_subtree(db.session, [city["d3"]])) == ["D3"]
    assert codes(services.list_subtree(db.session, [city["d2"]])) == [
        "D2",
        "D2-BA",
        "D3-KB",
        "D3-KB-A",
        "D3-KB-B",
    ]


def test_a_department_cannot_move_below_itself(db, city):
    with pytest.raises(services.DepartmentCycle):
        services.move_department(db.session, city["kb"], city["kita_a"])
    assert db.session.get(Department, city["kb"].id).parent_id == city["d3"].id


def test_department_codes_are_unique(db, city):
    with pytest.raises(services.DuplicateDepartmentCode):
        services.create_department(db.session, code="D3", name="Doppelt")
    assert db.session.scalar(select(Department).where(Department.name == "Doppelt")) is None


def test_search_employees_limits_to_subtree_and_text(db, make, city):
    make.employee(city["kita_a"], last_name="Yılmaz")
    make.employee(city["ba"], last_name="Yılmaz-Berger")
    make.employee(city["kita_b"], last_name="Kovačević")
    query = services.search_employees(db.session, roots=[city["kb"]], text="yılmaz")
    assert [e.last_name for e in db.session.scalars(query)] == ["Yılmaz"]
    everyone = db.session.scalars(services.search_employees(db.session, text="")).all()
    assert len(everyone) == 3

"""Department and past-completion imports: the tree, moves, loops, heads; completions that count."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.auth.models import User
from app.core.roles import Role
from app.courses.models import Completion
from app.extensions import db
from app.staff.models import Department
from tests.imports.conftest import csv_bytes, problems, xlsx_bytes

DEPARTMENTS = [
    ["OE-Nummer", "Bezeichnung", "Übergeordnete OE"],
    ["FB-51-KN", "Kita Nord", "FB-51"],  # a child before its parent
    ["FB-51", "Kinderbetreuung", "D-2"],
    ["D-2", "Dezernat II – Soziales", ""],
    ["FB-32", "Bürgeramt", "D-2"],
]


def _tree() -> dict[str, tuple[str | None, str, int]]:
    """code → (parent code, name, depth), checked against the stored paths."""
    departments = list(db.session.scalars(select(Department)))
    by_id = {d.id: d for d in departments}
    tree = {}
    for d in departments:
        parent = by_id.get(d.parent_id)
        expected_path = f"{parent.path if parent else '/'}{d.id}/"
        assert d.path == expected_path, d.code
        tree[d.code] = (parent.code if parent else None, d.name, d.depth)
    return tree


def test_a_tree_is_built_whatever_the_order_of_rows(importer):
    importer.run("departments", csv_bytes(DEPARTMENTS))

    assert _tree() == {
        "D-2": (None, "Dezernat II – Soziales", 0),
        "FB-51": ("D-2", "Kinderbetreuung", 1),
        "FB-32": ("D-2", "Bürgeramt", 1),
        "FB-51-KN": ("FB-51", "Kita Nord", 2),
    }


def test_the_same_file_again_changes_nothing(importer):
    importer.run("departments", csv_bytes(DEPARTMENTS))
    run = importer.check("departments", csv_bytes(DEPARTMENTS))

    assert run.report["counts"] == {"new": 0, "updated": 0, "deactivated": 0, "unchanged": 4}


def test_a_moved_department_takes_its_subtree_along(importer, make):
    importer.run("departments", csv_bytes(DEPARTMENTS))
    kita = db.session.scalar(select(Department).where(Department.code == "FB-51-KN"))
    make.employee(kita, personnel_number="1")
    moved = [DEPARTMENTS[0], ["FB-51", "Kinder und Familie", "D-3"], ["D-3", "Dezernat III", ""]]
    run = importer.check("departments", csv_bytes(moved))

    assert run.report["updated"] == [
        {
            "key": "FB-51",
            "label": "Kinder und Familie",
            "changes": {
                "name": ["Kinderbetreuung", "Kinder und Familie"],
                "parent": ["D-2", "D-3"],
            },
        }
    ]
    importer.apply(run)
    tree = _tree()
    assert tree["FB-51"] == ("D-3", "Kinder und Familie", 1)
    assert tree["FB-51-KN"] == ("FB-51", "Kita Nord", 2)


def test_turning_a_branch_upside_down_works(importer):
    importer.run("departments", csv_bytes(DEPARTMENTS))
    flipped = [
        DEPARTMENTS[0],
        ["FB-51", "Kinderbetreuung", "FB-51-KN"],
        ["FB-51-KN", "Kita Nord", "D-2"],
    ]
    importer.run("departments", csv_bytes(flipped))

    tree = _tree()
    assert tree["FB-51-KN"][0] == "D-2" and tree["FB-51"][0] == "FB-51-KN"


def test_loops_unknown_parents_and_duplicates_are_errors(importer):
    rows = [
        ["Code", "Name", "Parent"],
        ["A", "Amt A", "B"],
        ["B", "Amt B", "A"],
        ["C", "Amt C", "X-99"],
        ["A", "Amt A doppelt", ""],
        ["D", "Amt D", "D"],
        ["E", "", ""],
    ]
    run = importer.check("departments", csv_bytes(rows, delimiter=","))

    assert sorted(problems(run), key=lambda p: (p[0], p[2])) == [
        (2, "Parent", "cycle"),
        (3, "Parent", "cycle"),
        (4, "Parent", "unknown_parent"),
        (5, "Code", "duplicate_code"),
        (6, "Parent", "own_parent"),
        (7, "Name", "required"),
    ]
    assert db.session.scalar(select(Department.id)) is None


def test_a_head_with_a_login_is_assigned_and_one_without_is_noted(importer, make):
    importer.run("departments", csv_bytes(DEPARTMENTS))
    kita = db.session.scalar(select(Department).where(Department.code == "FB-51-KN"))
    head = make.employee(kita, personnel_number="8001")
    make.employee(kita, personnel_number="8002")
    user = make.user("leitung@stadt.example", employee=head)
    rows = [
        ["Code", "Bezeichnung", "Leitung (Personalnummer)"],
        ["FB-51-KN", "Kita Nord", "8001"],
        ["FB-32", "Bürgeramt", "8002"],
        ["D-2", "Dezernat II – Soziales", "9999"],
    ]
    run = importer.check("departments", xlsx_bytes(rows))

    assert sorted((w["code"], w["params"]["value"]) for w in run.report["warnings"]) == [
        ("head_unknown", "9999"),
        ("head_without_login", "8002"),
    ]
    importer.apply(run)
    user = db.session.get(User, user.id)
    assert [d.code for d in user.headed_departments] == ["FB-51-KN"]
    assert Role.HEAD in user.roles
    assert _tree()["FB-51-KN"][0] == "FB-51"  # no parent column: it stays where it is


COMPLETIONS = [
    ["Personalnummer", "Kurs", "Teilnahmedatum", "Nachweis"],
    ["1", "IKK-1", "12.05.2024", "TN-2024-17"],
    ["2", "Interkulturelle Kompetenz im Bürgerkontakt", "03.09.2025", ""],
]


def _completions() -> dict[str, tuple]:
    return {
        c.employee.personnel_number: (
            c.course.code,
            c.completed_on,
            c.valid_until,
            c.certificate_ref,
        )
        for c in db.session.scalars(select(Completion))
    }


def test_past_completions_count_with_their_validity(importer, make):
    make.course("IKK-1", title="Interkulturelle Kompetenz im Bürgerkontakt", validity_months=36)
    make.employee(personnel_number="1")
    make.employee(personnel_number="2", active=False)  # left since: the record still counts
    importer.run("completions", csv_bytes(COMPLETIONS))

    assert _completions() == {
        "1": ("IKK-1", date(2024, 5, 12), date(2027, 5, 11), "TN-2024-17"),
        "2": ("IKK-1", date(2025, 9, 3), date(2028, 9, 2), ""),
    }


def test_completions_again_change_nothing_and_a_new_reference_is_an_update(importer, make):
    make.course("IKK-1", validity_months=None)
    make.employee(personnel_number="1")
    make.employee(personnel_number="2")
    rows = [COMPLETIONS[0], COMPLETIONS[1], ["2", "ikk-1", "03.09.2025", ""]]
    importer.run("completions", csv_bytes(rows))

    again = importer.check("completions", csv_bytes(rows))
    assert again.report["counts"]["unchanged"] == 2
    rows[2][3] = "TN-99"
    changed = importer.check("completions", csv_bytes(rows))
    assert changed.report["counts"]["updated"] == 1
    importer.apply(changed)
    assert _completions()["2"][3] == "TN-99"
    assert _completions()["2"][2] is None  # the course never expires


def test_completion_errors_name_line_and_column(importer, make):
    make.course("IKK-1")
    make.employee(personnel_number="1")
    rows = [
        COMPLETIONS[0],
        ["1", "IKK-1", "12.05.2024", ""],
        ["404", "IKK-1", "12.05.2024", ""],
        ["1", "Yoga", "12.05.2024", ""],
        ["1", "IKK-1", "01.01.2099", ""],
        ["1", "IKK-1", "12.05.2024", "doppelt"],
    ]
    run = importer.check("completions", csv_bytes(rows))

    assert problems(run) == [
        (3, "Personalnummer", "unknown_employee"),
        (4, "Kurs", "unknown_course"),
        (5, "Teilnahmedatum", "future_date"),
        (6, None, "duplicate_completion"),
    ]
    assert _completions() == {}

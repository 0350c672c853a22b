"""The plan itself, read through build_plan: the named changes each kind produces, and a
fingerprint that hashes the same layout as before (a preview made earlier still confirms)."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from app.extensions import db
from app.imports.applying import apply_plan
from app.imports.planning import Change, Head, Plan, build_plan
from app.imports.reading import read_table
from tests.imports.conftest import TODAY, csv_bytes

STAFF_HEADER = ["Personalnummer", "Vorname", "Nachname", "Organisationseinheit", "Austrittsdatum"]


def _plan(kind: str, rows: list[list[str]], *, full_export: bool = False) -> Plan:
    return build_plan(
        db.session,
        kind=kind,
        table=read_table(csv_bytes(rows)),
        mapping={},
        full_export=full_export,
        today=TODAY,
    )


def _fingerprint_as_before(plan: Plan) -> str:
    """The hash as it was computed when changes were (id, key, label, …, values) tuples."""
    changes = {
        "new": plan.new,
        "updated": [(c.row_id, c.changes, c.values) for c in plan.updated],
        "deactivated": [(c.row_id, c.values) for c in plan.deactivated],
        "heads": [(h.department_code, h.user_id) for h in plan.heads],
    }
    text = json.dumps(changes, default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def test_staff_changes_name_what_they_change_and_why_people_leave(make):
    unit = make.department("FB-51")
    staying = make.employee(unit, personnel_number="4711", first_name="Jürgen", last_name="Groß")
    leaving = make.employee(unit, personnel_number="4712", first_name="Ayşe", last_name="Çelik")
    missing = make.employee(unit, personnel_number="4713", first_name="Zoë", last_name="Weiß")
    rows = [
        STAFF_HEADER,
        ["4711", "Jürgen", "Groß-Schmitt", "FB-51", ""],
        ["4712", "Ayşe", "Çelik", "fb-51", "31.10.2026"],
        ["4714", "Özlem", "Yılmaz", "FB-51", ""],
    ]
    plan = _plan("staff", rows, full_export=True)

    assert plan.ok
    assert [row["personnel_number"] for row in plan.new] == ["4714"]
    assert plan.updated == [
        Change(
            row_id=staying.id,
            key="4711",
            label="Jürgen Groß-Schmitt",
            changes={"last_name": ("Groß", "Groß-Schmitt")},
            values={"last_name": "Groß-Schmitt"},
        )
    ]
    assert plan.updated[0].reason == ""
    left = {change.key: change for change in plan.deactivated}
    assert left["4712"].row_id == leaving.id and left["4712"].reason == "exit_date"
    assert left["4712"].values == {"exit_date": date(2026, 10, 31), "active": False}
    assert left["4713"] == Change(
        row_id=missing.id,
        key="4713",
        label="Zoë Weiß",
        changes={"active": (True, False)},
        values={"active": False},
        reason="missing",
    )
    assert plan.fingerprint() == _fingerprint_as_before(plan)


def test_department_changes_and_heads_are_named(make):
    city = make.department("STADT", name="Stadtverwaltung")
    kita = make.department("FB-51", name="Kita", parent=city)
    head = make.employee(kita, personnel_number="8001")
    user = make.user("leitung@stadt.example", employee=head)
    rows = [
        ["Code", "Bezeichnung", "Übergeordnete OE", "Leitung (Personalnummer)"],
        ["FB-51", "Kinderbetreuung", "D-2", "8001"],
        ["D-2", "Dezernat II", "STADT", ""],
    ]
    plan = _plan("departments", rows)

    assert plan.new == [{"code": "D-2", "name": "Dezernat II", "parent": "STADT"}]
    assert plan.updated == [
        Change(
            row_id=kita.id,
            key="FB-51",
            label="Kinderbetreuung",
            changes={"name": ("Kita", "Kinderbetreuung"), "parent": ("STADT", "D-2")},
            values={"name": "Kinderbetreuung", "parent": "D-2"},
        )
    ]
    assert plan.heads == [Head(department_code="FB-51", user_id=user.id)]
    assert plan.fingerprint() == _fingerprint_as_before(plan)


def test_a_new_certificate_reference_is_a_named_change(make):
    make.course("IKK-1")
    make.employee(personnel_number="1")
    rows = [
        ["Personalnummer", "Kurs", "Teilnahmedatum", "Nachweis"],
        ["1", "IKK-1", "12.05.2024", ""],
    ]
    first = _plan("completions", rows)
    assert [(row["course"], row["completed_on"]) for row in first.new] == [
        ("IKK-1", date(2024, 5, 12))
    ]
    apply_plan(db.session, first, actor=None)
    db.session.commit()

    rows[1][3] = "TN-99"
    plan = _plan("completions", rows)

    assert plan.new == [] and len(plan.updated) == 1
    change = plan.updated[0]
    assert (change.key, change.label) == ("1", "IKK-1 12.05.2024")
    assert change.changes == {"certificate_ref": ("", "TN-99")}
    assert change.values == {"certificate_ref": "TN-99"}
    assert plan.fingerprint() == _fingerprint_as_before(plan)

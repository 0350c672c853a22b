"""A small city with one person per status, on a fixed day, for the reports' own tests.

Dezernat I (A)                 Basis: everyone; Erste Hilfe: Dezernat II only
├── Amt für Bildung (A1)       Winter: never trained, overdue (and an inactive colleague)
│   └── Schule am Park (A1-S)  Sommer: trained in January, compliant
└── Bürgeramt (A2)             Herbst: valid until 25 June, due soon; Frühling: exempt
Dezernat II (B)                Regen: expired in January, overdue; Erste Hilfe not yet due
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from app.courses.models import Completion
from app.requirements.models import AudienceKind, AudienceRule, Exemption, Requirement
from app.staff.models import Department, Employee

TODAY = date(2026, 6, 15)
DUE_SOON_DAYS = 30


@dataclass
class City:
    a: Department
    a1: Department
    school: Department
    a2: Department
    b: Department
    basis: Requirement
    first_aid: Requirement
    sommer: Employee
    winter: Employee
    herbst: Employee
    fruehling: Employee
    regen: Employee


@pytest.fixture
def city(db, make) -> City:
    a = make.department("A", name="Dezernat I")
    a1 = make.department("A1", name="Amt für Bildung", parent=a)
    school = make.department("A1-S", name="Schule am Park", parent=a1)
    a2 = make.department("A2", name="Bürgeramt", parent=a)
    b = make.department("B", name="Dezernat II")
    course = make.course("IKK", title="Interkulturelle Kompetenz", validity_months=36)
    aid_course = make.course("EH", title="Erste Hilfe am Arbeitsplatz", validity_months=24)
    basis = Requirement(name="Basis", first_due_date=date(2026, 3, 1), courses=[course])
    basis.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    first_aid = Requirement(
        name="Erste Hilfe", first_due_date=date(2026, 9, 30), courses=[aid_course]
    )
    first_aid.audience = [AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=b)]
    db.session.add_all([basis, first_aid])
    sommer = make.employee(school, first_name="Sina", last_name="Sommer")
    winter = make.employee(a1, first_name="Wim", last_name="Winter")
    make.employee(a1, last_name="Ruhestand", active=False)
    herbst = make.employee(a2, first_name="Hanna", last_name="Herbst")
    fruehling = make.employee(a2, first_name="Fritz", last_name="Frühling")
    regen = make.employee(b, first_name="Rita", last_name="Regen")
    db.session.add_all(
        [
            Completion(
                employee=sommer,
                course=course,
                completed_on=date(2026, 1, 10),
                valid_until=date(2029, 1, 9),
            ),
            Completion(
                employee=herbst,
                course=course,
                completed_on=date(2023, 6, 26),
                valid_until=date(2026, 6, 25),
            ),
            Completion(
                employee=regen,
                course=course,
                completed_on=date(2023, 1, 2),
                valid_until=date(2026, 1, 1),
            ),
            Exemption(
                employee=fruehling,
                requirement=basis,
                reason="Elternzeit",
                starts_on=date(2026, 1, 1),
            ),
        ]
    )
    db.session.commit()
    return City(a, a1, school, a2, b, basis, first_aid, sommer, winter, herbst, fruehling, regen)

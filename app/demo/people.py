"""The demo city's organisation and staff: departments, employees, who joined and who left."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from app.core.types import DbSession
from app.demo import data
from app.demo.logins import DEMO_PEOPLE, DemoPerson
from app.staff.models import Department, Employee
from app.staff.services import create_department

_NEW_STARTERS = 15
_LEAVERS = 10
_FUTURE_LEAVERS = 4
#: Share of staff without a work e-mail address, by staff kind (otherwise 1 %).
_WITHOUT_EMAIL = {"depot": 0.15, "facility": 0.08}


@dataclass
class Person:
    """An employee of the demo city, with what the builder decided about them."""

    employee: Employee
    unit: data.Unit
    leader: bool = False
    demo: DemoPerson | None = None
    new_starter: bool = False
    #: Holds a valid completion of the unit's own course (decided per unit with the history).
    trained: bool = False


def add_departments(db_session: DbSession) -> dict[str, Department]:
    """The department tree of ``data.UNITS``, by code."""
    departments: dict[str, Department] = {}
    for unit in data.UNITS:
        parent = departments[unit.parent] if unit.parent else None
        departments[unit.code] = create_department(
            db_session, code=unit.code, name=unit.name, parent=parent
        )
    return departments


def add_staff(
    db_session: DbSession,
    rng: random.Random,
    today: date,
    departments: dict[str, Department],
) -> list[Person]:
    """Staff every unit (the demo people among them), turn some over, number them by seniority."""
    people: list[Person] = []
    used_emails = {_email(p.first_name, p.last_name, set()) for p in DEMO_PEOPLE}
    for unit in data.UNITS:
        demos = [p for p in DEMO_PEOPLE if p.unit == unit.code]
        head = next((p for p in demos if not p.position), None)
        staff = [p for p in demos if p.position]
        female_share, positions = data.STAFF[unit.staff]
        for index in range(unit.headcount):
            leader = index == 0
            demo = head if leader else (staff.pop(0) if staff else None)
            if demo is not None:
                first, last = demo.first_name, demo.last_name
                email: str | None = _email(first, last, set())
                entry = _first_of_month(today - timedelta(days=365 * demo.years))
            else:
                first, last = _name(rng, female=rng.random() < female_share)
                email = _email(first, last, used_emails)
                used_emails.add(email)
                if rng.random() < _WITHOUT_EMAIL.get(unit.staff, 0.01):
                    email = None
                years = 0.5 + 29.5 * rng.random() ** 1.6
                entry = _first_of_month(today - timedelta(days=int(365 * years)))
            if leader:
                position = unit.leader
            elif demo is not None:
                position = demo.position
            elif index == 1 and unit.staff == "kita":
                position = "Stellvertretende Kita-Leitung"
            else:
                names, weights = zip(*positions, strict=True)
                position = rng.choices(names, weights)[0]
            employee = Employee(
                first_name=first,
                last_name=last,
                email=email,
                department_id=departments[unit.code].id,
                position=position,
                entry_date=entry,
                active=True,
                # The draw comes first: every person takes one, the demo people too.
                locale="en" if rng.random() < 0.015 and demo is None else "de",
            )
            people.append(Person(employee, unit, leader=leader, demo=demo))
    _turn_over(people, rng, today)
    by_seniority = sorted(people, key=lambda p: p.employee.entry_date or today)
    for number, person in enumerate(by_seniority, start=100001):
        person.employee.personnel_number = str(number)
    db_session.add_all(p.employee for p in people)
    db_session.flush()
    return people


def _turn_over(people: list[Person], rng: random.Random, today: date) -> None:
    """Make some people new starters, some leavers, and a few leave at a known future date."""
    regular = [p for p in people if not p.leader and p.demo is None]
    for person in rng.sample([p for p in regular if p.unit.code != "D1-INT"], _NEW_STARTERS):
        person.new_starter = True
        person.employee.entry_date = _first_of_month(
            today - relativedelta(months=rng.randint(0, 5))
        )
    seasoned = [p for p in regular if not p.new_starter]
    leaving = rng.sample(seasoned, _LEAVERS + _FUTURE_LEAVERS)
    for person in leaving[:_LEAVERS]:
        employee = person.employee
        employee.exit_date = _last_of_month(today - relativedelta(months=rng.randint(1, 12)))
        employee.active = False
        if employee.entry_date is None or employee.entry_date >= employee.exit_date:
            months = rng.randint(12, 120)
            employee.entry_date = _first_of_month(employee.exit_date - relativedelta(months=months))
    for person in leaving[_LEAVERS:]:
        person.employee.exit_date = _last_of_month(today + relativedelta(months=rng.randint(1, 5)))


def _name(rng: random.Random, *, female: bool) -> tuple[str, str]:
    """A first and a family name as they come together in a diverse German town."""
    origin = rng.choices(data.ORIGINS, data.ORIGIN_WEIGHTS)[0]
    first = rng.choice(origin.female if female else origin.male)
    family = origin
    roll = rng.random()
    if origin is not data.ORIGINS[0] and roll < 0.12:
        family = data.ORIGINS[0]  # married into, or grew up in, a German family
    elif origin is data.ORIGINS[0] and roll < 0.05:
        family = rng.choice(data.ORIGINS[1:])
    last = _gendered(rng.choice(family.last), female)
    if female and rng.random() < 0.03:
        last = f"{_gendered(rng.choice(data.ORIGINS[0].last), female)}-{last}"
    return first, last


_FOLD = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ı": "i",
     "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "æ": "ae", " ": "-", "'": ""}
)  # fmt: skip


def _email(first_name: str, last_name: str, used: set[str]) -> str:
    """``vorname.nachname@…`` in plain ASCII, numbered when the name is taken already."""
    local = f"{_fold(first_name)}.{_fold(last_name)}"
    candidate, number = local, 1
    while f"{candidate}@{data.DOMAIN}" in used:
        number += 1
        candidate = f"{local}{number}"
    return f"{candidate}@{data.DOMAIN}"


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _gendered(family_name: str, female: bool) -> str:
    """``Kowalski|Kowalska`` → the form for the person; most names have one form only."""
    male_form, _, female_form = family_name.partition("|")
    return female_form if female and female_form else male_form


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _last_of_month(day: date) -> date:
    return day + relativedelta(day=31)

"""Builds the demo city in order: organisation, staff, catalogue, history, logins, rules, trend.

Every step draws from the one ``random.Random(seed)`` in turn, so keeping the order of the
steps (and of the draws inside them) keeps the city the same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from app.core.clock import local_today
from app.core.types import DbSession
from app.courses.models import Course
from app.demo.catalogue import add_catalogue
from app.demo.history import add_history
from app.demo.logins import add_demo_users
from app.demo.people import Person, add_departments, add_staff
from app.reports.services import take_snapshot
from app.requirements.models import AudienceKind, AudienceRule, Exemption, Requirement
from app.staff.models import Department

#: How many people are on parental leave, exempt from the basic training while it lasts.
_ON_PARENTAL_LEAVE = 8


@dataclass(frozen=True)
class DemoSummary:
    departments: int
    employees: int
    courses: int
    sessions: int
    completions: int
    users: int


def seed_demo_city(
    db_session: DbSession, *, seed: int = 2026, today: date | None = None
) -> DemoSummary:
    """Add the demo city (tree, staff, courses, sessions, history, logins) and flush; no commit."""
    today = today or local_today()
    rng = random.Random(seed)
    departments = add_departments(db_session)
    people = add_staff(db_session, rng, today, departments)
    catalogue = add_catalogue(db_session, rng, today)
    completions = add_history(db_session, rng, today, people, catalogue)
    users = add_demo_users(
        db_session,
        employees={p.demo.email: p.employee for p in people if p.demo is not None},
        departments=departments,
    )
    basics = _add_requirements(db_session, today, catalogue.courses, departments)
    _add_exemptions(db_session, rng, today, basics, people)
    _add_snapshots(db_session, today)
    return DemoSummary(
        departments=len(departments),
        employees=len(people),
        courses=len(catalogue.courses),
        sessions=len(catalogue.sessions()),
        completions=completions,
        users=users,
    )


def _add_requirements(
    db_session: DbSession,
    today: date,
    courses: dict[str, Course],
    departments: dict[str, Department],
) -> Requirement:
    """The city's rules: basics for all, citizen service for front offices, leaders; returns
    the basics."""
    intercultural = [courses[c] for c in ("IKG-EL", "IKK-BS", "ELT-MIG", "KSB-SEN", "IKK-AUF")]
    basics = Requirement(
        name="Interkulturelle Basisqualifizierung (alle Beschäftigten)",
        description="Empfehlung 1 des Forschungsprojekts: alle Beschäftigten der Stadt "
        "haben eine gültige interkulturelle Fortbildung.",
        first_due_date=today - timedelta(days=200),
        grace_days=180,
        renewal_months=36,
        courses=intercultural,
    )
    basics.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    front_office = Requirement(
        name="Interkulturelle Kompetenz im Bürgerservice",
        description="Für Bereiche mit viel Publikumsverkehr.",
        first_due_date=today - timedelta(days=120),
        grace_days=120,
        renewal_months=36,
        courses=[courses["IKK-BS"], courses["IKK-AUF"]],
    )
    front_office.audience = [
        AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=departments[code])
        for code in ("D2-BA", "D2-SA", "D2-OA")
    ]
    leaders = Requirement(
        name="Diversity Management für Führungskräfte",
        first_due_date=today + timedelta(days=90),
        grace_days=365,
        courses=[courses["DIV-FK"]],
    )
    leaders.audience = [
        AudienceRule(kind=AudienceKind.POSITION.value, position=position)
        for position in ("Amtsleitung", "Kita-Leitung", "Leitung der Feuerwehr")
    ]
    db_session.add_all([basics, front_office, leaders])
    db_session.flush()
    return basics


def _add_exemptions(
    db_session: DbSession,
    rng: random.Random,
    today: date,
    basics: Requirement,
    people: list[Person],
) -> None:
    """People on parental leave are exempt from the basics while it lasts."""
    on_leave = rng.sample(
        [p for p in people if p.employee.active and not p.leader and p.demo is None],
        _ON_PARENTAL_LEAVE,
    )
    db_session.add_all(
        Exemption(
            employee_id=person.employee.id,
            requirement_id=basics.id,
            reason="Elternzeit",
            starts_on=today - timedelta(days=rng.randint(30, 300)),
            ends_on=today + timedelta(days=rng.randint(60, 400)),
        )
        for person in on_leave
    )
    db_session.flush()


def _add_snapshots(db_session: DbSession, today: date) -> None:
    """A year of monthly coverage snapshots, as beat would have taken them."""
    this_month = today.replace(day=1)
    for months_back in range(12, 0, -1):
        taken_on = this_month - relativedelta(months=months_back)
        take_snapshot(db_session, today=taken_on, due_soon_days=30)

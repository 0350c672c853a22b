"""The demo logins, one per role, that ``flask seed-demo`` prints; and the people behind them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from app.auth.services import create_user
from app.core.roles import Role
from app.core.types import DbSession
from app.demo.data import DOMAIN
from app.staff.models import Department, Employee

DEMO_PASSWORD = "Demo-Passwort-2026"  # noqa: S105 - the published password of the demo logins


class DemoLogin(NamedTuple):
    label: str  # who logs in with it, as printed
    email: str


@dataclass(frozen=True)
class DemoPerson:
    """Someone behind a demo login; all of them are employees of the city too."""

    label: str
    email: str
    first_name: str
    last_name: str
    unit: str
    position: str  # "" for the head of the unit: they get the unit's leader position
    years: int
    roles: tuple[Role, ...]
    heads: tuple[str, ...] = ()

    @property
    def login(self) -> DemoLogin:
        return DemoLogin(self.label, self.email)


ADMIN_LOGIN = DemoLogin("Administrator", f"admin@{DOMAIN}")
#: Logins of bodies, not of a person on the staff list: they see no one's data.
BODY_LOGINS = {
    Role.STAFF_COUNCIL: DemoLogin("Staff council", f"personalrat@{DOMAIN}"),
    Role.DATA_PROTECTION: DemoLogin("Data protection officer", f"datenschutz@{DOMAIN}"),
}
#: Booked on the first refresher, and due soon: the Bürgeramt course runs out shortly after.
DEMO_EMPLOYEE = DemoPerson(
    "Employee", f"mehmet.yilmaz@{DOMAIN}", "Mehmet", "Yılmaz", "D2-BA",
    "Sachbearbeiter/in Pass- und Meldewesen", 8, (),
)  # fmt: skip
#: Shows a newcomer the overdue case: his basic training ran out a year ago.
DEMO_OVERDUE = DemoPerson(
    "Employee, overdue", f"luca.romano@{DOMAIN}", "Luca", "Romano", "D2-FW",
    "Brandmeister/in", 6, (),
)  # fmt: skip
DEMO_PEOPLE = (
    DemoPerson(
        "HR", f"personal@{DOMAIN}", "Sabine", "Krämer", "D1-PA",
        "Personalentwicklung und Fortbildung", 12, (Role.HR,),
    ),
    DemoPerson(
        "Department head", f"dragana.petrovic@{DOMAIN}", "Dragana", "Petrović", "D3-KB",
        "", 15, (Role.HEAD,), ("D3-KB",),
    ),
    DemoPerson(
        "Head of Bürgeramt", f"katarzyna.nowak@{DOMAIN}", "Katarzyna", "Nowak",
        "D2-BA", "", 10, (Role.HEAD,), ("D2-BA",),
    ),
    DEMO_EMPLOYEE,
    DEMO_OVERDUE,
)  # fmt: skip

DEMO_LOGINS: tuple[DemoLogin, ...] = (
    ADMIN_LOGIN,
    *(person.login for person in DEMO_PEOPLE),
    *BODY_LOGINS.values(),
)


def add_demo_users(
    db_session: DbSession,
    *,
    employees: Mapping[str, Employee],
    departments: Mapping[str, Department],
) -> int:
    """Create every demo login with the published password; returns how many.

    ``employees`` holds the employee behind each demo person by login e-mail, ``departments``
    the departments by code.
    """
    create_user(db_session, email=ADMIN_LOGIN.email, password=DEMO_PASSWORD, roles=[Role.ADMIN])
    for role, login in BODY_LOGINS.items():
        create_user(db_session, email=login.email, password=DEMO_PASSWORD, roles=[role])
    for person in DEMO_PEOPLE:
        create_user(
            db_session,
            email=person.email,
            password=DEMO_PASSWORD,
            roles=[*person.roles, Role.EMPLOYEE],
            employee=employees[person.email],
            headed_departments=[departments[code] for code in person.heads],
        )
    return len(DEMO_LOGINS)

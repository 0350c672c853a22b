"""The demo city: a Neu-Isenburg-like administration with staff, courses, sessions and history.

Everything is drawn from one ``random.Random(seed)`` and dated relative to ``today``, so the
same seed and the same day give the same city. The seeder only adds and flushes.
"""

from __future__ import annotations

import calendar
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.auth.services import create_user
from app.core.roles import Role
from app.core.types import DbSession
from app.courses.models import (
    Completion,
    Course,
    CourseFormat,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
)
from app.demo import data
from app.requirements.models import AudienceKind, AudienceRule, Exemption, Requirement
from app.staff.models import Department, Employee
from app.staff.services import create_department

BERLIN = ZoneInfo("Europe/Berlin")
DOMAIN = "neu-isenburg.example"
DEMO_PASSWORD = "Demo-Passwort-2026"  # noqa: S105 - the published password of the demo logins


@dataclass(frozen=True)
class _DemoPerson:
    label: str
    login: str
    first_name: str
    last_name: str
    unit: str
    position: str  # "" for the head of the unit: they get the unit's leader position
    years: int
    roles: tuple[Role, ...]
    heads: tuple[str, ...] = ()


#: The people behind the demo logins; all of them are also employees.
_DEMO_PEOPLE = (
    _DemoPerson(
        "HR", f"personal@{DOMAIN}", "Sabine", "Krämer", "D1-PA",
        "Personalentwicklung und Fortbildung", 12, (Role.HR,),
    ),
    _DemoPerson(
        "Department head", f"dragana.petrovic@{DOMAIN}", "Dragana", "Petrović", "D3-KB",
        "", 15, (Role.HEAD,), ("D3-KB",),
    ),
    _DemoPerson(
        "Head of Bürgeramt", f"katarzyna.nowak@{DOMAIN}", "Katarzyna", "Nowak",
        "D2-BA", "", 10, (Role.HEAD,), ("D2-BA",),
    ),
    _DemoPerson(
        "Employee", f"mehmet.yilmaz@{DOMAIN}", "Mehmet", "Yılmaz", "D2-BA",
        "Sachbearbeiter/in Pass- und Meldewesen", 8, (),
    ),
    _DemoPerson(
        "Employee, overdue", f"luca.romano@{DOMAIN}", "Luca", "Romano", "D2-FW",
        "Brandmeister/in", 6, (),
    ),
)  # fmt: skip

DEMO_LOGINS: list[tuple[str, str]] = [
    ("Administrator", f"admin@{DOMAIN}"),
    *((person.label, person.login) for person in _DEMO_PEOPLE),
]


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
    today = today or datetime.now(BERLIN).date()
    return _CityBuilder(db_session, random.Random(seed), today).build()


# --- building ---------------------------------------------------------------------------------

#: Past sessions reach back this far; older completions were recorded without a session.
_PAST_DAYS = 720
_UPCOMING_DAYS = 150
_NEW_STARTERS = 15
_LEAVERS = 10
_FUTURE_LEAVERS = 4
#: Who takes part in the network meeting (besides the leaders' and department courses).
_NETWORK_UNITS = ("D1-INT", "D3-SO", "D3-FZ", "D3-SE", "D3-KU", "D3-SP")
_POPULAR_COURSE = "ELT-MIG"
#: Units invited to a course besides those whose own course it is.
_ALSO_INVITED = {"KSB-SEN": ("D3-SO",)}


@dataclass
class _Person:
    employee: Employee
    unit: data.Unit
    leader: bool = False
    demo: _DemoPerson | None = None
    new_starter: bool = False
    #: Holds a valid completion of the unit's own course (decided per unit, see _add_history).
    trained: bool = False


class _CityBuilder:
    """Builds the city step by step, keeping the bookkeeping the constraints need."""

    def __init__(self, db_session: DbSession, rng: random.Random, today: date) -> None:
        self.db = db_session
        self.rng = rng
        self.today = today
        self.units: dict[str, Department] = {}
        self.people: list[_Person] = []
        self.courses: dict[str, Course] = {}
        self.upcoming: dict[str, list[CourseSession]] = {}
        self.past: dict[str, list[CourseSession]] = {}
        self.completions: list[Completion] = []
        self.enrolments: list[Enrolment] = []
        #: (employee id, course code) -> last day the latest completion counts (date.max: forever)
        self.held: dict[tuple[int, str], date] = {}
        self._day: dict[int, date] = {}  # session id -> local date
        self._seats: dict[int, int] = {}  # session id -> seats taken so far
        self._no_show_quota: dict[int, int] = {}
        self._enrolled: set[tuple[int, int]] = set()  # (session id, employee id)
        self._completed: set[tuple[int, str, date]] = set()
        self._audiences: dict[str, list[_Person]] = {}
        self._session_days: set[tuple[str, date]] = set()

    def build(self) -> DemoSummary:
        self._add_departments()
        self._add_employees()
        self._add_courses_and_sessions()
        self._add_history()
        self._add_no_shows()
        self._add_bookings()
        for session_id, session in self._sessions_by_id().items():
            session.seats_taken = self._seats[session_id]
        self.db.add_all(self.completions)
        _number_waiting_lists(self.enrolments)
        self.db.add_all(self.enrolments)
        self.db.flush()
        users = self._add_users()
        self._add_requirements()
        return DemoSummary(
            departments=len(self.units),
            employees=len(self.people),
            courses=len(self.courses),
            sessions=len(self._day),
            completions=len(self.completions),
            users=users,
        )

    # --- organisation and staff ---

    def _add_departments(self) -> None:
        for unit in data.UNITS:
            parent = self.units[unit.parent] if unit.parent else None
            self.units[unit.code] = create_department(
                self.db, code=unit.code, name=unit.name, parent=parent
            )

    def _add_employees(self) -> None:
        rng = self.rng
        used_emails = {_email(p.first_name, p.last_name, set()) for p in _DEMO_PEOPLE}
        for unit in data.UNITS:
            demos = [p for p in _DEMO_PEOPLE if p.unit == unit.code]
            head = next((p for p in demos if not p.position), None)
            staff = [p for p in demos if p.position]
            female_share, positions = data.STAFF[unit.staff]
            for index in range(unit.headcount):
                leader = index == 0
                demo = head if leader else (staff.pop(0) if staff else None)
                if demo is not None:
                    first, last = demo.first_name, demo.last_name
                    email: str | None = _email(first, last, set())
                    entry = _first_of_month(self.today - timedelta(days=365 * demo.years))
                else:
                    first, last = self._name(rng.random() < female_share)
                    email = _email(first, last, used_emails)
                    used_emails.add(email)
                    if rng.random() < {"depot": 0.15, "facility": 0.08}.get(unit.staff, 0.01):
                        email = None
                    years = 0.5 + 29.5 * rng.random() ** 1.6
                    entry = _first_of_month(self.today - timedelta(days=int(365 * years)))
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
                    department_id=self.units[unit.code].id,
                    position=position,
                    entry_date=entry,
                    active=True,
                    locale="en" if rng.random() < 0.015 and demo is None else "de",
                )
                self.people.append(_Person(employee, unit, leader=leader, demo=demo))
        self._turn_over_staff()
        ordered = sorted(self.people, key=lambda p: p.employee.entry_date or self.today)
        for number, person in enumerate(ordered, start=100001):
            person.employee.personnel_number = str(number)
        self.db.add_all(p.employee for p in self.people)
        self.db.flush()

    def _turn_over_staff(self) -> None:
        """Make some people new starters, some leavers, and a few leave at a known future date."""
        rng, today = self.rng, self.today
        regular = [p for p in self.people if not p.leader and p.demo is None]
        for person in rng.sample([p for p in regular if p.unit.code != "D1-INT"], _NEW_STARTERS):
            person.new_starter = True
            person.employee.entry_date = _first_of_month(_add_months(today, -rng.randint(0, 5)))
        seasoned = [p for p in regular if not p.new_starter]
        leaving = rng.sample(seasoned, _LEAVERS + _FUTURE_LEAVERS)
        for person in leaving[:_LEAVERS]:
            employee = person.employee
            employee.exit_date = _last_of_month(_add_months(today, -rng.randint(1, 12)))
            employee.active = False
            if employee.entry_date is None or employee.entry_date >= employee.exit_date:
                months = rng.randint(12, 120)
                employee.entry_date = _first_of_month(_add_months(employee.exit_date, -months))
        for person in leaving[_LEAVERS:]:
            person.employee.exit_date = _last_of_month(_add_months(today, rng.randint(1, 5)))

    def _name(self, female: bool) -> tuple[str, str]:
        rng = self.rng
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

    # --- catalogue and sessions ---

    def _add_courses_and_sessions(self) -> None:
        for spec in data.COURSES:
            self.courses[spec.code] = Course(
                code=spec.code,
                title=spec.title,
                description=spec.description,
                learning_goals=spec.goals,
                format=spec.format.value,
                language="de",
                duration_minutes=spec.duration,
                default_capacity=spec.capacity,
                trainer=spec.trainer,
                validity_months=spec.validity,
            )
            upcoming, past = spec.sessions
            self.upcoming[spec.code] = [
                self._session(spec, self._session_day(spec.code, i, upcoming, past=False))
                for i in range(upcoming)
            ]
            self.past[spec.code] = [
                self._session(spec, self._session_day(spec.code, i, past, past=True))
                for i in range(past)
            ]
        self.db.add_all(self.courses.values())
        self.db.flush()
        for session_id, session in self._sessions_by_id().items():
            self._day[session_id] = session.starts_at.astimezone(BERLIN).date()
            self._seats[session_id] = 0
        for sessions in self.past.values():
            for session in sessions:
                self._no_show_quota[session.id] = self.rng.choice((0, 1, 1, 2))

    def _session(self, spec: data.CourseSpec, day: date) -> CourseSession:
        rng = self.rng
        starts_at = datetime.combine(day, spec.starts, tzinfo=BERLIN)
        online = spec.format in (CourseFormat.ONLINE, CourseFormat.BLENDED)
        return CourseSession(
            course=self.courses[spec.code],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=spec.duration),
            location=rng.choice(spec.places),
            online_url=(
                f"https://konferenz.{DOMAIN}/{spec.code.lower()}-{day.isoformat()}"
                if online
                else ""
            ),
            capacity=max(12, min(20, spec.capacity + rng.choice((-2, 0, 0, 2)))),
            min_participants=4 if spec.capacity <= 14 else 6,
            trainer=spec.trainer,
            enrolment_deadline=starts_at - timedelta(days=7),
            cancellation_deadline=starts_at - timedelta(days=3),
            notes=rng.choice(data.SESSION_NOTES),
        )

    def _session_day(self, code: str, index: int, count: int, *, past: bool) -> date:
        """The ``index``-th of ``count`` session days spread evenly over the window."""
        # Monday to Thursday, not in the Christmas break, at most one session of a course a day.
        first, last = (10, _PAST_DAYS) if past else (3, _UPCOMING_DAYS)
        offset = first + int((index + self.rng.random()) * (last - first) / count)
        day = self.today + timedelta(days=-offset if past else offset)
        day += timedelta(days=self.rng.randint(0, 3) - day.weekday())
        step = -1 if past else 1
        if not past and day < self.today + timedelta(days=first):
            day += timedelta(days=7)
        while day.weekday() > 3 or _in_christmas_break(day) or (code, day) in self._session_days:
            day += timedelta(days=step)
        self._session_days.add((code, day))
        return day

    def _sessions_by_id(self) -> dict[int, CourseSession]:
        groups = [*self.upcoming.values(), *self.past.values()]
        return {session.id: session for sessions in groups for session in sessions}

    # --- history: completions, attendance, no-shows ---

    def _add_history(self) -> None:
        """Give staff completions; per unit exactly its coverage share holds its own course."""
        for unit in data.UNITS:
            staff = [p for p in self.people if p.unit is unit]
            active = [p for p in staff if p.employee.active]
            eligible = [
                p
                for p in active
                if not p.new_starter and p.demo not in (_DEMO_EMPLOYEE, _DEMO_OVERDUE)
            ]
            wanted = min(len(eligible), round(unit.coverage * len(active)))
            first = [p for p in eligible if p.demo is not None]  # the heads set an example
            rest = [p for p in eligible if p.demo is None]
            for person in first + self.rng.sample(rest, max(0, wanted - len(first))):
                person.trained = True
            for person in staff:
                self._add_person_history(person)

    def _add_person_history(self, person: _Person) -> None:
        rng, today = self.rng, self.today
        employee, main = person.employee, person.unit.course
        entry = employee.entry_date or today
        if person.demo is _DEMO_EMPLOYEE:
            self._add_demo_employee_history(person)
        elif person.demo is _DEMO_OVERDUE:
            self._complete(person, "IKG-EL", today - timedelta(days=4 * 365), attend=False)
        elif not employee.active:
            if rng.random() < 0.5 and employee.exit_date is not None:
                day = self._random_day(entry, employee.exit_date)
                self._complete(person, main, day, attend=False)
        elif person.new_starter:  # inside the grace period: at most the e-learning so far
            if rng.random() < 0.3 and entry < today:
                self._complete(person, "IKG-EL", self._random_day(entry, today))
        else:
            if person.trained:
                self._add_valid(person, main)
            else:
                roll = rng.random()
                # Some let their course run out; a few of them renewed it with the refresher.
                if roll < 0.45 and self._add_expired(person, main) and roll < 0.1:
                    self._complete(person, "IKK-AUF", today - timedelta(days=rng.randint(14, 900)))
            if main != "IKG-EL" and rng.random() < 0.15:  # took the e-learning on top
                if rng.random() < 0.7:
                    self._add_valid(person, "IKG-EL")
                else:
                    self._add_expired(person, "IKG-EL")
            if person.leader:
                roll = rng.random()
                if person.demo is not None or roll < 0.55:
                    self._add_valid(person, "DIV-FK")
                elif roll < 0.7:
                    self._add_expired(person, "DIV-FK")
            in_network = person.unit.code in _NETWORK_UNITS
            if in_network and (person.unit.code == "D1-INT" or rng.random() < 0.3):
                start = max(entry, today - timedelta(days=5 * 365))
                self._complete(person, "NETZ-VER", self._random_day(start, today))

    def _add_demo_employee_history(self, person: _Person) -> None:
        """Due soon and already booked: the Bürgeramt course runs out after the first refresher."""
        refresher = self._day[self.upcoming["IKK-AUF"][0].id]
        last_valid_day = refresher + timedelta(days=21)
        months = self.courses["IKK-BS"].validity_months or 36
        completed_on = _add_months(last_valid_day + timedelta(days=1), -months)
        self._complete(person, "IKK-BS", completed_on, attend=False)
        self._complete(person, "IKG-EL", self.today - timedelta(days=420))

    def _add_valid(self, person: _Person, code: str) -> None:
        """A completion valid today: mostly recent, about one in eight expiring within 60 days."""
        rng, today = self.rng, self.today
        entry = person.employee.entry_date or today
        tenure = (today - entry).days
        months = self.courses[code].validity_months
        if months is None:
            self._complete(
                person, code, self._random_day(max(entry, today - timedelta(days=1825)), today)
            )
            return
        span = (today - _add_months(today, -months)).days
        if rng.random() < 0.12 and tenure > span:
            last_valid_day = today + timedelta(days=rng.randint(1, 60))
            self._complete(person, code, _add_months(last_valid_day + timedelta(days=1), -months))
        else:
            days_ago = rng.randint(14, max(14, min(tenure, span - 61)))
            self._complete(person, code, today - timedelta(days=days_ago))

    def _add_expired(self, person: _Person, code: str) -> bool:
        """A completion that ran out (done three to six years ago), if the person was here then."""
        months = self.courses[code].validity_months
        if months is None:
            return False
        span = (self.today - _add_months(self.today, -months)).days
        latest = self.today - timedelta(days=span + 5)
        earliest = max(
            person.employee.entry_date or latest, self.today - timedelta(days=span + 3 * 365)
        )
        if earliest >= latest:
            return False
        self._complete(person, code, self._random_day(earliest, latest))
        return True

    def _complete(
        self, person: _Person, code: str, completed_on: date, *, attend: bool = True
    ) -> None:
        """Record a completion; a recent one comes from a past session with a free seat."""
        employee, course = person.employee, self.courses[code]
        session = self._free_past_session(code, completed_on, employee) if attend else None
        if session is not None:
            completed_on = self._day[session.id]
        if (employee.id, code, completed_on) in self._completed:
            return
        self._completed.add((employee.id, code, completed_on))
        if session is not None:
            self._enrol(session, employee, EnrolmentStatus.ATTENDED)
        months = course.validity_months
        valid_until = (
            None if months is None else _add_months(completed_on, months) - timedelta(days=1)
        )
        self.completions.append(
            Completion(
                employee_id=employee.id,
                course_id=course.id,
                completed_on=completed_on,
                valid_until=valid_until,
                session_id=session.id if session is not None else None,
                certificate_ref=""
                if session is not None
                else self._certificate_ref(code, completed_on),
                created_at=_at(completed_on, time(17, 0)),
            )
        )
        held = valid_until or date.max
        if held > self.held.get((employee.id, code), date.min):
            self.held[(employee.id, code)] = held

    def _free_past_session(
        self, code: str, completed_on: date, employee: Employee
    ) -> CourseSession | None:
        if completed_on < self.today - timedelta(days=_PAST_DAYS + 10):
            return None
        entry = employee.entry_date or self.today
        candidates = [
            session
            for session in self.past[code]
            if self._day[session.id] >= entry
            and self._seats[session.id] + self._no_show_quota[session.id] < session.capacity
            and (session.id, employee.id) not in self._enrolled
        ]
        # Any recent session will do (all of them are still valid), so they fill up evenly.
        return self.rng.choice(candidates) if candidates else None

    def _certificate_ref(self, code: str, day: date) -> str:
        rng = self.rng
        if code == "IKG-EL":
            return f"Lernplattform-Zertifikat {day.year}-{rng.randint(1000, 99999):05d}"
        roll = rng.random()
        if roll < 0.5:
            return f"Zertifikat VHS {day.year}-{rng.randint(100, 399)}"
        if roll < 0.8:
            return f"Teilnahmeliste {day:%Y-%m} (Papierakte)"
        return ""

    def _add_no_shows(self) -> None:
        for code, sessions in self.past.items():
            audience = self._audience(code)
            for session in sessions:
                day = self._day[session.id]
                pool = [
                    p.employee
                    for p in audience
                    if _employed_on(p.employee, day)
                    and (session.id, p.employee.id) not in self._enrolled
                ]
                quota = min(len(pool), self._no_show_quota[session.id])
                for employee in self.rng.sample(pool, quota):
                    self._enrol(session, employee, EnrolmentStatus.NO_SHOW)

    # --- bookings for coming sessions ---

    def _add_bookings(self) -> None:
        """Book coming sessions; the first of the popular course is full and has a waitlist."""
        rng = self.rng
        popular = self.upcoming[_POPULAR_COURSE][0]
        demo_employee = next(p.employee for p in self.people if p.demo is _DEMO_EMPLOYEE)
        for code, sessions in self.upcoming.items():
            booked: set[int] = set()
            for session in sessions:
                day = self._day[session.id]
                pool = [e for e in self._booking_pool(code, day) if e.id not in booked]
                forced = [demo_employee] if code == "IKK-AUF" and session is sessions[0] else []
                if session is popular:
                    wanted = session.capacity
                else:  # nearer sessions fuller, and every session gets its share of the pool
                    share = 0.85 - 0.45 * (day - self.today).days / _UPCOMING_DAYS
                    wanted = round(session.capacity * (share + rng.uniform(-0.15, 0.15)))
                    left = len(sessions) - sessions.index(session)
                    wanted = min(wanted, -(-len(pool) // left))
                wanted = max(0, min(len(pool), wanted - len(forced)))
                for employee in forced + rng.sample(pool, wanted):
                    self._enrol(session, employee, EnrolmentStatus.BOOKED)
                    booked.add(employee.id)
                rest = [e for e in pool if e.id not in booked]
                if session is popular:
                    for employee in rng.sample(rest, min(3, len(rest))):
                        self._enrol(session, employee, EnrolmentStatus.WAITLISTED)
                        booked.add(employee.id)
                elif rest and rng.random() < 0.3:
                    self._enrol(session, rng.choice(rest), EnrolmentStatus.CANCELLED)

    def _booking_pool(self, code: str, day: date) -> list[Employee]:
        """Active staff in the course's audience who will not hold a valid completion on ``day``."""
        if code == "IKK-AUF":
            soon = self.today + timedelta(days=120)
            audience = [
                p
                for p in self.people
                if self.held.get((p.employee.id, p.unit.course), date.max) < soon
            ]
        else:
            audience = self._audience(code)
        return [
            p.employee
            for p in audience
            if p.demo is None
            and p.employee.active
            and _employed_on(p.employee, day)
            and self.held.get((p.employee.id, code), date.min) < day
        ]

    def _audience(self, code: str) -> list[_Person]:
        if code not in self._audiences:
            if code == "DIV-FK":
                chosen = [p for p in self.people if p.leader]
            elif code == "NETZ-VER":
                chosen = [p for p in self.people if p.unit.code in _NETWORK_UNITS]
            elif code in ("IKG-EL", "IKK-AUF"):
                chosen = list(self.people)
            else:
                also = _ALSO_INVITED.get(code, ())
                chosen = [p for p in self.people if p.unit.course == code or p.unit.code in also]
            self._audiences[code] = chosen
        return self._audiences[code]

    def _enrol(self, session: CourseSession, employee: Employee, status: EnrolmentStatus) -> None:
        self._enrolled.add((session.id, employee.id))
        if status in (EnrolmentStatus.BOOKED, EnrolmentStatus.ATTENDED, EnrolmentStatus.NO_SHOW):
            self._seats[session.id] += 1
        deadline = session.enrolment_deadline or session.starts_at
        anchor = min(_at(self.today, time(8, 0)), deadline)
        created = anchor - timedelta(days=self.rng.randint(0, 30), minutes=self.rng.randint(0, 600))
        finished = status in (EnrolmentStatus.ATTENDED, EnrolmentStatus.NO_SHOW)
        self.enrolments.append(
            Enrolment(
                session_id=session.id,
                employee_id=employee.id,
                status=status.value,
                waitlisted_at=created if status is EnrolmentStatus.WAITLISTED else None,
                created_at=created,
                updated_at=session.ends_at if finished else created,
            )
        )

    # --- logins ---

    def _add_requirements(self) -> None:
        """The city's rules: basics for all, citizen service for front offices, leaders."""
        courses = self.courses
        intercultural = [courses[c] for c in ("IKG-EL", "IKK-BS", "ELT-MIG", "KSB-SEN", "IKK-AUF")]
        basics = Requirement(
            name="Interkulturelle Basisqualifizierung (alle Beschäftigten)",
            description="Empfehlung 1 des Forschungsprojekts: alle Beschäftigten der Stadt "
            "haben eine gültige interkulturelle Fortbildung.",
            first_due_date=self.today - timedelta(days=200),
            grace_days=180,
            renewal_months=36,
            courses=intercultural,
        )
        basics.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
        front_office = Requirement(
            name="Interkulturelle Kompetenz im Bürgerservice",
            description="Für Bereiche mit viel Publikumsverkehr.",
            first_due_date=self.today - timedelta(days=120),
            grace_days=120,
            renewal_months=36,
            courses=[courses["IKK-BS"], courses["IKK-AUF"]],
        )
        front_office.audience = [
            AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=self.units[code])
            for code in ("D2-BA", "D2-SA", "D2-OA")
        ]
        leaders = Requirement(
            name="Diversity Management für Führungskräfte",
            first_due_date=self.today + timedelta(days=90),
            grace_days=365,
            courses=[courses["DIV-FK"]],
        )
        leaders.audience = [
            AudienceRule(kind=AudienceKind.POSITION.value, position=position)
            for position in ("Amtsleitung", "Kita-Leitung", "Leitung der Feuerwehr")
        ]
        self.db.add_all([basics, front_office, leaders])
        self.db.flush()
        # People on parental leave are exempt while it lasts.
        on_leave = self.rng.sample(
            [p for p in self.people if p.employee.active and not p.leader and p.demo is None], 8
        )
        self.db.add_all(
            Exemption(
                employee_id=person.employee.id,
                requirement_id=basics.id,
                reason="Elternzeit",
                starts_on=self.today - timedelta(days=self.rng.randint(30, 300)),
                ends_on=self.today + timedelta(days=self.rng.randint(60, 400)),
            )
            for person in on_leave
        )
        self.db.flush()
        self._add_snapshots()

    def _add_snapshots(self) -> None:
        """A year of monthly coverage snapshots, as beat would have taken them."""
        from app.reports.services import take_snapshot

        first = self.today.replace(day=1)
        for months_back in range(12, 0, -1):
            year, month = divmod(first.year * 12 + first.month - 1 - months_back, 12)
            take_snapshot(self.db, today=date(year, month + 1, 1), due_soon_days=30)

    def _add_users(self) -> int:
        create_user(self.db, email=DEMO_LOGINS[0][1], password=DEMO_PASSWORD, roles=[Role.ADMIN])
        by_login = {p.demo.login: p for p in self.people if p.demo is not None}
        for demo in _DEMO_PEOPLE:
            create_user(
                self.db,
                email=demo.login,
                password=DEMO_PASSWORD,
                roles=[*demo.roles, Role.EMPLOYEE],
                employee=by_login[demo.login].employee,
                headed_departments=[self.units[code] for code in demo.heads],
            )
        return 1 + len(_DEMO_PEOPLE)

    def _random_day(self, start: date, end: date) -> date:
        """A day in [start, end), or ``start`` when the range is empty."""
        return start + timedelta(days=self.rng.randrange(max(1, (end - start).days)))


# --- small helpers ----------------------------------------------------------------------------

_FOLD = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ı": "i",
     "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "æ": "ae", " ": "-", "'": ""}
)  # fmt: skip


def _email(first_name: str, last_name: str, used: set[str]) -> str:
    """``vorname.nachname@…`` in plain ASCII, numbered when the name is taken already."""
    local = f"{_fold(first_name)}.{_fold(last_name)}"
    candidate, number = local, 1
    while f"{candidate}@{DOMAIN}" in used:
        number += 1
        candidate = f"{local}{number}"
    return f"{candidate}@{DOMAIN}"


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _gendered(family_name: str, female: bool) -> str:
    """``Kowalski|Kowalska`` → the form for the person; most names have one form only."""
    male_form, _, female_form = family_name.partition("|")
    return female_form if female and female_form else male_form


def _employed_on(employee: Employee, day: date) -> bool:
    started = employee.entry_date is None or employee.entry_date <= day
    return started and (employee.exit_date is None or employee.exit_date >= day)


def _in_christmas_break(day: date) -> bool:
    return (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 2)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=BERLIN)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _last_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


_DEMO_EMPLOYEE = next(person for person in _DEMO_PEOPLE if person.label == "Employee")
#: Shows a newcomer the overdue case: his basic training ran out a year ago.
_DEMO_OVERDUE = next(person for person in _DEMO_PEOPLE if person.label == "Employee, overdue")


def _number_waiting_lists(enrolments: list[Enrolment]) -> None:
    """Give the people waiting for each date their places, in the order they joined."""
    waiting = sorted(
        (e for e in enrolments if e.status == EnrolmentStatus.WAITLISTED.value),
        key=lambda e: (e.session_id, e.waitlisted_at),
    )
    places: dict[int, int] = {}
    for enrolment in waiting:
        places[enrolment.session_id] = places.get(enrolment.session_id, 0) + 1
        enrolment.waitlist_number = places[enrolment.session_id]

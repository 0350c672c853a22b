"""The demo city's training history: completions, attendance, no-shows and coming bookings."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from app.core.types import BERLIN, DbSession
from app.courses.models import (
    SEATED_STATUSES,
    Completion,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
)
from app.courses.services.attendance import session_day, valid_until
from app.demo import data
from app.demo.catalogue import PAST_DAYS, UPCOMING_DAYS, Catalogue
from app.demo.logins import DEMO_EMPLOYEE, DEMO_OVERDUE
from app.demo.people import Person
from app.staff.models import Employee

#: Who takes part in the network meeting (besides the leaders' and department courses).
_NETWORK_UNITS = ("D1-INT", "D3-SO", "D3-FZ", "D3-SE", "D3-KU", "D3-SP")
_POPULAR_COURSE = "ELT-MIG"
#: Units invited to a course besides those whose own course it is.
_ALSO_INVITED = {"KSB-SEN": ("D3-SO",)}


def add_history(
    db_session: DbSession,
    rng: random.Random,
    today: date,
    people: list[Person],
    catalogue: Catalogue,
) -> int:
    """Add completions, attendance, no-shows and bookings, seats counted; returns the number
    of completions."""
    history = _History(rng, today, people, catalogue)
    history.add_completions()
    history.add_no_shows()
    history.add_bookings()
    for session in catalogue.sessions():
        session.seats_taken = history.seats[session.id]
    db_session.add_all(history.completions)
    _number_waiting_lists(history.enrolments)
    db_session.add_all(history.enrolments)
    db_session.flush()
    return len(history.completions)


class _Held:
    """The last day each person's completions of a course count (None: for good)."""

    def __init__(self) -> None:
        self._until: dict[tuple[int, str], date | None] = {}

    def add(self, employee_id: int, code: str, until: date | None) -> None:
        """Note a completion counting until ``until``; the one that counts longest wins."""
        key = (employee_id, code)
        if key in self._until:
            held = self._until[key]
            if held is None or (until is not None and until <= held):
                return
        self._until[key] = until

    def holds_on(self, employee_id: int, code: str, day: date) -> bool:
        """A completion of the course counts on ``day``."""
        key = (employee_id, code)
        if key not in self._until:
            return False
        until = self._until[key]
        return until is None or until >= day

    def runs_out_before(self, employee_id: int, code: str, day: date) -> bool:
        """The person holds the course, but only until before ``day``."""
        until = self._until.get((employee_id, code))
        return until is not None and until < day


class _History:
    """The history step by step, keeping the bookkeeping the constraints need."""

    def __init__(
        self, rng: random.Random, today: date, people: list[Person], catalogue: Catalogue
    ) -> None:
        self.rng = rng
        self.today = today
        self.people = people
        self.courses = catalogue.courses
        self.upcoming = catalogue.upcoming
        self.past = catalogue.past
        self.completions: list[Completion] = []
        self.enrolments: list[Enrolment] = []
        self.seats: Counter[int] = Counter()  # session id -> seats taken so far
        self._held = _Held()
        self._no_show_quota = {
            session.id: rng.choice((0, 1, 1, 2))
            for sessions in self.past.values()
            for session in sessions
        }
        self._enrolled: set[tuple[int, int]] = set()  # (session id, employee id)
        self._completed: set[tuple[int, str, date]] = set()
        self._audiences: dict[str, list[Person]] = {}

    # --- completions and attendance ---

    def add_completions(self) -> None:
        """Give staff completions; per unit exactly its coverage share holds its own course."""
        for unit in data.UNITS:
            staff = [p for p in self.people if p.unit is unit]
            active = [p for p in staff if p.employee.active]
            eligible = [
                p
                for p in active
                if not p.new_starter and p.demo not in (DEMO_EMPLOYEE, DEMO_OVERDUE)
            ]
            wanted = min(len(eligible), round(unit.coverage * len(active)))
            first = [p for p in eligible if p.demo is not None]  # the heads set an example
            rest = [p for p in eligible if p.demo is None]
            for person in first + self.rng.sample(rest, max(0, wanted - len(first))):
                person.trained = True
            for person in staff:
                self._add_person_history(person)

    def _add_person_history(self, person: Person) -> None:
        rng, today = self.rng, self.today
        employee, main = person.employee, person.unit.course
        entry = employee.entry_date or today
        if person.demo is DEMO_EMPLOYEE:
            self._add_demo_employee_history(person)
        elif person.demo is DEMO_OVERDUE:
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

    def _add_demo_employee_history(self, person: Person) -> None:
        """Due soon and already booked: the Bürgeramt course runs out after the first refresher."""
        refresher = session_day(self.upcoming["IKK-AUF"][0])
        last_valid_day = refresher + timedelta(days=21)
        months = self.courses["IKK-BS"].validity_months or 36
        completed_on = last_valid_day + timedelta(days=1) - relativedelta(months=months)
        self._complete(person, "IKK-BS", completed_on, attend=False)
        self._complete(person, "IKG-EL", self.today - timedelta(days=420))

    def _add_valid(self, person: Person, code: str) -> None:
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
        span = _days_in_last(months, today)
        if rng.random() < 0.12 and tenure > span:
            last_valid_day = today + timedelta(days=rng.randint(1, 60))
            completed_on = last_valid_day + timedelta(days=1) - relativedelta(months=months)
            self._complete(person, code, completed_on)
        else:
            days_ago = rng.randint(14, max(14, min(tenure, span - 61)))
            self._complete(person, code, today - timedelta(days=days_ago))

    def _add_expired(self, person: Person, code: str) -> bool:
        """A completion that ran out (done three to six years ago), if the person was here then."""
        months = self.courses[code].validity_months
        if months is None:
            return False
        span = _days_in_last(months, self.today)
        latest = self.today - timedelta(days=span + 5)
        earliest = max(
            person.employee.entry_date or latest, self.today - timedelta(days=span + 3 * 365)
        )
        if earliest >= latest:
            return False
        self._complete(person, code, self._random_day(earliest, latest))
        return True

    def _complete(
        self, person: Person, code: str, completed_on: date, *, attend: bool = True
    ) -> None:
        """Record a completion; a recent one comes from a past session with a free seat."""
        employee, course = person.employee, self.courses[code]
        session = self._free_past_session(code, completed_on, employee) if attend else None
        if session is not None:
            completed_on = session_day(session)
        if (employee.id, code, completed_on) in self._completed:
            return
        self._completed.add((employee.id, code, completed_on))
        if session is not None:
            self._enrol(session, employee, EnrolmentStatus.ATTENDED)
        until = valid_until(course, completed_on)
        self.completions.append(
            Completion(
                employee_id=employee.id,
                course_id=course.id,
                completed_on=completed_on,
                valid_until=until,
                session_id=session.id if session is not None else None,
                certificate_ref=""
                if session is not None
                else self._certificate_ref(code, completed_on),
                created_at=_at(completed_on, time(17, 0)),
            )
        )
        self._held.add(employee.id, code, until)

    def _free_past_session(
        self, code: str, completed_on: date, employee: Employee
    ) -> CourseSession | None:
        if completed_on < self.today - timedelta(days=PAST_DAYS + 10):
            return None
        entry = employee.entry_date or self.today
        candidates = [
            session
            for session in self.past[code]
            if session_day(session) >= entry
            and self.seats[session.id] + self._no_show_quota[session.id] < session.capacity
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

    def add_no_shows(self) -> None:
        """Give each past session its quota of people who were booked but did not come."""
        for code, sessions in self.past.items():
            audience = self._audience(code)
            for session in sessions:
                day = session_day(session)
                pool = [
                    p.employee
                    for p in audience
                    if _on_staff(p.employee, day)
                    and (session.id, p.employee.id) not in self._enrolled
                ]
                quota = min(len(pool), self._no_show_quota[session.id])
                for employee in self.rng.sample(pool, quota):
                    self._enrol(session, employee, EnrolmentStatus.NO_SHOW)

    # --- bookings for coming sessions ---

    def add_bookings(self) -> None:
        """Book coming sessions; the first of the popular course is full and has a waitlist."""
        rng = self.rng
        popular = self.upcoming[_POPULAR_COURSE][0]
        demo_employee = next(p.employee for p in self.people if p.demo is DEMO_EMPLOYEE)
        for code, sessions in self.upcoming.items():
            booked: set[int] = set()
            for index, session in enumerate(sessions):
                day = session_day(session)
                pool = [e for e in self._booking_pool(code, day) if e.id not in booked]
                forced = [demo_employee] if code == "IKK-AUF" and index == 0 else []
                if session is popular:
                    wanted = session.capacity
                else:  # nearer sessions fuller, and every session gets its share of the pool
                    share = 0.85 - 0.45 * (day - self.today).days / UPCOMING_DAYS
                    wanted = round(session.capacity * (share + rng.uniform(-0.15, 0.15)))
                    left = len(sessions) - index
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
        if code == "IKK-AUF":  # the refresher: for those whose own course runs out soon
            soon = self.today + timedelta(days=120)
            audience = [
                p
                for p in self.people
                if self._held.runs_out_before(p.employee.id, p.unit.course, soon)
            ]
        else:
            audience = self._audience(code)
        return [
            p.employee
            for p in audience
            if p.demo is None
            and p.employee.active
            and _on_staff(p.employee, day)
            and not self._held.holds_on(p.employee.id, code, day)
        ]

    def _audience(self, code: str) -> list[Person]:
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
        if status.value in SEATED_STATUSES:
            self.seats[session.id] += 1
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

    def _random_day(self, start: date, end: date) -> date:
        """A day in [start, end), or ``start`` when the range is empty."""
        return start + timedelta(days=self.rng.randrange(max(1, (end - start).days)))


def _number_waiting_lists(enrolments: list[Enrolment]) -> None:
    """Give the people waiting for each date their places, in the order they joined."""
    waiting = sorted(
        (e for e in enrolments if e.status == EnrolmentStatus.WAITLISTED.value),
        key=lambda e: (e.session_id, e.waitlisted_at),
    )
    places: Counter[int] = Counter()
    for enrolment in waiting:
        places[enrolment.session_id] += 1
        enrolment.waitlist_number = places[enrolment.session_id]


def _on_staff(employee: Employee, day: date) -> bool:
    """Employed on ``day``: joined by then and not yet left."""
    started = employee.entry_date is None or employee.entry_date <= day
    return started and (employee.exit_date is None or employee.exit_date >= day)


def _days_in_last(months: int, today: date) -> int:
    """How many days the ``months`` up to ``today`` have: about how long a completion counts."""
    return (today - (today - relativedelta(months=months))).days


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=BERLIN)

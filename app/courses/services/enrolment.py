"""Enrolment: booking seats, the waiting list, cancelling, bulk booking and moving people.

Every change of a date's seats or waiting list happens under the date's lock
(``lock_session``: ``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
lets one writer in at a time). Under it the person's enrolment is read afresh, so a double
click, a second tab or HR booking the person at the same moment finds the first booking and
changes nothing. A seat is taken by a conditional UPDATE (``seats_taken < capacity``), backed
by the CHECK constraint on ``seats_taken``. A freed seat goes to the first person waiting in the
same transaction. The waiting list is served by ``waitlist_number``, drawn under the lock.
Every step is recorded as an ``EnrolmentEvent``, and the steps people are told about write an
outbox message with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.core.audit import record_change
from app.core.models import MessageKind
from app.core.outbox import enqueue
from app.core.roles import Role
from app.core.sql import rows_updated
from app.core.types import DbSession, utcnow
from app.courses.models import (
    ACTIVE_STATUSES,
    WAITING_LIST_ORDER,
    CourseSession,
    Enrolment,
    EnrolmentAction,
    EnrolmentEvent,
    EnrolmentStatus,
)
from app.courses.services.errors import (
    AlreadyEnrolled,
    DeadlinePassed,
    EmployeeNotBookable,
    NotAllowed,
    NotCancellable,
    SessionNotBookable,
)
from app.staff.models import Employee
from app.staff.services import is_within

#: Steps the employee is told about by mail (built and sent by the notifications area).
NOTIFIED_ACTIONS = frozenset(
    {
        EnrolmentAction.BOOKED,
        EnrolmentAction.WAITLISTED,
        EnrolmentAction.PROMOTED,
        EnrolmentAction.CANCELLED,
        EnrolmentAction.SESSION_CANCELLED,
    }
)
#: Outcomes of a date, recorded in the audit log once per date (``record_attendance``).
ATTENDANCE_ACTIONS = frozenset(
    {EnrolmentAction.ATTENDED, EnrolmentAction.NO_SHOW, EnrolmentAction.EXCUSED}
)


@dataclass
class BulkBookingResult:
    booked: list[Enrolment] = field(default_factory=list)
    waitlisted: list[Enrolment] = field(default_factory=list)
    #: (employee, reason) for everyone not booked, e.g. already enrolled.
    skipped: list[tuple[Employee, str]] = field(default_factory=list)


def enrol(
    db_session: DbSession,
    *,
    employee: Employee,
    course_session: CourseSession,
    actor: User,
    override_deadline: bool = False,
) -> Enrolment:
    """Give ``employee`` a seat, or a waiting-list place when the session is full.

    Employees book themselves, heads their own staff; HR may book anyone and override the
    enrolment deadline.
    On a domain error nothing has changed; the caller rolls back on any error.
    """
    now = utcnow()
    personnel_number = employee.personnel_number  # readable even after a failed flush
    _check_may_act_for(actor, employee)
    course_session = lock_session(db_session, course_session.id)
    _check_bookable(course_session, now)
    if not employee.active:
        raise EmployeeNotBookable(personnel_number)
    overridden = _check_deadline(course_session.enrolment_deadline, now, actor, override_deadline)
    enrolment = db_session.scalar(
        select(Enrolment)
        .where(Enrolment.session_id == course_session.id, Enrolment.employee_id == employee.id)
        .execution_options(populate_existing=True)
    )
    if enrolment is not None and enrolment.status in ACTIVE_STATUSES:
        raise AlreadyEnrolled(personnel_number)
    previous_status = enrolment.status if enrolment is not None else None

    seated = _take_seat(db_session, course_session)
    number = None if seated else _next_waitlist_number(db_session, course_session)
    if enrolment is None:  # a cancelled enrolment is reused: one row per person and session
        enrolment = Enrolment(session_id=course_session.id, employee_id=employee.id)
        db_session.add(enrolment)
    enrolment.status = (EnrolmentStatus.BOOKED if seated else EnrolmentStatus.WAITLISTED).value
    enrolment.waitlisted_at = None if seated else utcnow()
    enrolment.waitlist_number = number
    try:
        db_session.flush()
    except IntegrityError as error:  # only if a writer got past the date's lock
        raise AlreadyEnrolled(personnel_number) from error
    action = EnrolmentAction.BOOKED if seated else EnrolmentAction.WAITLISTED
    record_event(
        db_session,
        enrolment,
        action,
        actor=actor,
        deadline_overridden=overridden,
        previous_status=previous_status,
    )
    return enrolment


def cancel_enrolment(
    db_session: DbSession, *, enrolment: Enrolment, actor: User, override_deadline: bool = False
) -> list[Enrolment]:
    """Cancel a booking or leave the waiting list; returns who moved up into the freed seat."""
    return _withdraw(
        db_session,
        enrolment,
        actor=actor,
        rules_for=actor,
        action=EnrolmentAction.CANCELLED,
        override_deadline=override_deadline,
    )


def withdraw_leaver(
    db_session: DbSession, *, enrolment: Enrolment, actor: User | None
) -> list[Enrolment]:
    """Cancel the future booking or waiting place of someone who left the staff (an HR import;
    deadlines do not apply); returns who moved up into the freed seat."""
    return _withdraw(
        db_session,
        enrolment,
        actor=actor,
        rules_for=None,
        action=EnrolmentAction.CANCELLED,
        override_deadline=True,
        note="left the staff",
    )


def book_many(
    db_session: DbSession,
    *,
    employees: Iterable[Employee],
    course_session: CourseSession,
    actor: User,
    override_deadline: bool = False,
) -> BulkBookingResult:
    """HR (anyone) or a head (their own staff) books several people at once; whoever cannot be
    booked is listed with the reason."""
    if not actor.has_role(Role.HR, Role.HEAD):
        raise NotAllowed(actor.email)
    result = BulkBookingResult()
    for employee in employees:
        try:
            with db_session.begin_nested():
                enrolment = enrol(
                    db_session,
                    employee=employee,
                    course_session=course_session,
                    actor=actor,
                    override_deadline=override_deadline,
                )
        except (AlreadyEnrolled, EmployeeNotBookable, NotAllowed) as error:
            result.skipped.append((employee, type(error).__name__))
            continue
        if enrolment.status == EnrolmentStatus.BOOKED:
            result.booked.append(enrolment)
        else:
            result.waitlisted.append(enrolment)
    return result


def move_enrolment(
    db_session: DbSession, *, enrolment: Enrolment, target: CourseSession, actor: User
) -> Enrolment:
    """HR moves a person to another session (a seat there, or its waiting list)."""
    if not actor.has_role(Role.HR):
        raise NotAllowed(actor.email)
    if target.id == enrolment.session_id:
        raise AlreadyEnrolled(enrolment.employee.personnel_number)
    # Both dates locked, always in the same order, so two moves in opposite directions
    # wait for each other instead of deadlocking.
    for session_id in sorted((enrolment.session_id, target.id)):
        lock_session(db_session, session_id)
    _check_bookable(target, utcnow())
    employee = enrolment.employee
    _withdraw(
        db_session,
        enrolment,
        actor=actor,
        rules_for=actor,
        action=EnrolmentAction.MOVED_AWAY,
        override_deadline=True,
        note=f"→ {target.id}",
    )
    return enrol(
        db_session, employee=employee, course_session=target, actor=actor, override_deadline=True
    )


def waitlist_position(db_session: DbSession, enrolment: Enrolment) -> int | None:
    """1 for the first in line; None when the enrolment is not on the waiting list."""
    if enrolment.status != EnrolmentStatus.WAITLISTED:
        return None
    places = _places(enrolment.session_id).subquery()
    # The line is numbered in SQL; only this person's place comes back (it runs under the
    # date's lock when someone joins, so a long line must not be sent to Python).
    place: int | None = db_session.scalar(
        select(places.c.place).where(places.c.enrolment_id == enrolment.id)
    )
    return place


def waitlist_positions(db_session: DbSession, session_id: int) -> dict[int, int]:
    """Everyone waiting for the date, by enrolment id: 1 for the first in line."""
    return {enrolment_id: place for enrolment_id, place in db_session.execute(_places(session_id))}


def lock_session(db_session: DbSession, session_id: int) -> CourseSession:
    """The date, read afresh and locked until the transaction ends: every change of its seats
    or waiting list happens under this lock (a no-op on SQLite, which lets one writer in)."""
    return db_session.execute(
        select(CourseSession)
        .where(CourseSession.id == session_id)
        .options(joinedload(CourseSession.course, innerjoin=True))  # bookable? needs the course
        .with_for_update(of=CourseSession)
        .execution_options(populate_existing=True)
    ).scalar_one()


def promote_waitlisted(db_session: DbSession, course_session: CourseSession) -> list[Enrolment]:
    """Give free seats to the people waiting, first come first served."""
    promoted: list[Enrolment] = []
    while True:
        candidate = db_session.scalar(
            select(Enrolment)
            .where(
                Enrolment.session_id == course_session.id,
                Enrolment.status == EnrolmentStatus.WAITLISTED.value,
            )
            .order_by(*WAITING_LIST_ORDER)
            .limit(1)
        )
        if candidate is None or not _take_seat(db_session, course_session):
            return promoted
        moved_up = rows_updated(
            db_session,
            update(Enrolment)
            .where(
                Enrolment.id == candidate.id, Enrolment.status == EnrolmentStatus.WAITLISTED.value
            )
            .values(
                status=EnrolmentStatus.BOOKED.value,
                waitlisted_at=None,
                waitlist_number=None,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False),
        )
        db_session.expire(candidate)
        if not moved_up:  # left the list meanwhile: give the seat back and try the next one
            _release_seat(db_session, course_session)
            continue
        record_event(
            db_session,
            candidate,
            EnrolmentAction.PROMOTED,
            actor=None,
            previous_status=EnrolmentStatus.WAITLISTED.value,
        )
        promoted.append(candidate)


# --- helpers ---------------------------------------------------------------------------------


def _withdraw(
    db_session: DbSession,
    enrolment: Enrolment,
    *,
    actor: User | None,
    rules_for: User | None,
    action: EnrolmentAction,
    override_deadline: bool,
    note: str = "",
) -> list[Enrolment]:
    """``rules_for`` is whose rights and deadlines apply (the actor); None when an HR process
    withdraws someone (a leaver in an import), where neither applies."""
    now = utcnow()
    if rules_for is not None:
        _check_may_act_for(rules_for, enrolment.employee)
    course_session = lock_session(db_session, enrolment.session_id)
    db_session.refresh(enrolment)  # as it is now, under the lock
    if enrolment.status not in ACTIVE_STATUSES:
        raise NotCancellable(enrolment.status)
    if course_session.has_begun(now):
        raise SessionNotBookable("begun")
    previous_status = enrolment.status
    was_booked = previous_status == EnrolmentStatus.BOOKED.value
    overridden = False
    if was_booked and rules_for is not None:  # leaving the waiting list is always possible
        overridden = _check_deadline(
            course_session.cancellation_deadline, now, rules_for, override_deadline
        )
    elif was_booked:  # an HR process: no deadline applies, but passing it is recorded
        deadline = course_session.cancellation_deadline
        overridden = deadline is not None and deadline < now
    claimed = rows_updated(
        db_session,
        update(Enrolment)
        .where(Enrolment.id == enrolment.id, Enrolment.status == enrolment.status)
        .values(
            status=EnrolmentStatus.CANCELLED.value,
            waitlisted_at=None,
            waitlist_number=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False),
    )
    db_session.expire(enrolment)
    if not claimed:  # cancelled by a parallel request
        raise NotCancellable(EnrolmentStatus.CANCELLED.value)
    record_event(
        db_session,
        enrolment,
        action,
        actor=actor,
        deadline_overridden=overridden,
        note=note,
        previous_status=previous_status,
    )
    if not was_booked:
        return []
    _release_seat(db_session, course_session)
    return promote_waitlisted(db_session, course_session)


def _take_seat(db_session: DbSession, course_session: CourseSession) -> bool:
    taken = rows_updated(
        db_session,
        update(CourseSession)
        .where(
            CourseSession.id == course_session.id,
            CourseSession.seats_taken < CourseSession.capacity,
            CourseSession.cancelled_at.is_(None),
        )
        .values(seats_taken=CourseSession.seats_taken + 1)
        .execution_options(synchronize_session=False),
    )
    db_session.expire(course_session, ["seats_taken"])
    return taken == 1


def _release_seat(db_session: DbSession, course_session: CourseSession) -> None:
    db_session.execute(
        update(CourseSession)
        .where(CourseSession.id == course_session.id)
        .values(seats_taken=CourseSession.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )
    db_session.expire(course_session, ["seats_taken"])


def record_event(
    db_session: DbSession,
    enrolment: Enrolment,
    action: EnrolmentAction,
    *,
    actor: User | None,
    deadline_overridden: bool = False,
    note: str = "",
    previous_status: str | None = None,
) -> EnrolmentEvent:
    """Add a step to the enrolment's history, with an outbox message if the person is told,
    and to the audit log when someone other than the person made it."""
    event = EnrolmentEvent(
        enrolment_id=enrolment.id,
        action=action.value,
        actor_user_id=actor.id if actor is not None else None,
        deadline_overridden=deadline_overridden,
        note=note,
    )
    db_session.add(event)
    db_session.flush()
    if action not in ATTENDANCE_ACTIONS and (
        actor is None or actor.employee_id != enrolment.employee_id
    ):  # made by someone else (a head, HR, the system); attendance is recorded per date
        record_change(
            db_session,
            action=action.value,
            entity="enrolment",
            entity_id=enrolment.id,
            before=None if previous_status is None else {"status": previous_status},
            after={
                "employee_id": enrolment.employee_id,
                "session_id": enrolment.session_id,
                "status": enrolment.status,
                "deadline_overridden": deadline_overridden,
            },
        )
    if action in NOTIFIED_ACTIONS:
        enqueue(
            db_session,
            key=f"enrolment-event:{event.id}",
            kind=MessageKind(action.value),
            payload={
                "event_id": event.id,
                "enrolment_id": enrolment.id,
                "session_id": enrolment.session_id,
                "employee_id": enrolment.employee_id,
            },
        )
    return event


def may_act_for(actor: User, employee: Employee) -> bool:
    """True when ``actor`` may book or cancel for ``employee``: themself, HR anyone, a head the
    staff of the departments they head (and below), who often have no PC to book themselves."""
    if actor.has_role(Role.HR):
        return True
    if actor.employee_id is not None and actor.employee_id == employee.id:
        return True
    return actor.has_role(Role.HEAD) and is_within(employee.department, actor.headed_departments)


def _check_may_act_for(actor: User, employee: Employee) -> None:
    if not may_act_for(actor, employee):
        raise NotAllowed(actor.email)


def _check_bookable(course_session: CourseSession, now: datetime) -> None:
    if course_session.cancelled_at is not None:
        raise SessionNotBookable("cancelled")
    if course_session.has_begun(now):
        raise SessionNotBookable("begun")
    if course_session.course.archived:
        raise SessionNotBookable("archived")


def _check_deadline(
    deadline: datetime | None, now: datetime, actor: User, override_deadline: bool
) -> bool:
    """True when the deadline has passed and HR overrides it; raises when it has passed."""
    if deadline is None or now <= deadline:
        return False
    if override_deadline and actor.has_role(Role.HR):
        return True
    raise DeadlinePassed(deadline.isoformat())


def _next_waitlist_number(db_session: DbSession, course_session: CourseSession) -> int:
    """The next place in the date's line (call under its lock: the numbers then follow the
    order in which people joined, and no two get the same one)."""
    highest = db_session.scalar(
        select(func.max(Enrolment.waitlist_number)).where(Enrolment.session_id == course_session.id)
    )
    return int(highest or 0) + 1


def _places(session_id: int) -> Select[int, int]:
    """(enrolment id, place in line) of everyone waiting for the date."""
    place = func.row_number().over(order_by=WAITING_LIST_ORDER).label("place")
    return select(Enrolment.id.label("enrolment_id"), place).where(
        Enrolment.session_id == session_id,
        Enrolment.status == EnrolmentStatus.WAITLISTED.value,
    )

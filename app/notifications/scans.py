"""Scheduled scans that decide which reminders are due and write them to the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import String, cast, exists, func, literal, select

from app.auth.services import responsible_heads, users_with_role
from app.core.models import MessageKind, OutboxMessage
from app.core.outbox import NewMessage, enqueue, enqueue_many
from app.core.roles import Role
from app.core.types import DbSession, utcnow
from app.courses.models import CourseSession, Enrolment, EnrolmentStatus
from app.requirements.status import Status, status_query


def queue_session_reminders(db_session: DbSession, *, days_before: Iterable[int]) -> int:
    """Write one reminder per booked person and lead time (e.g. 7 and 1 days), never twice.

    A person who booked after the lead time had begun gets no reminder for it (the booking
    confirmation was just sent). Returns how many reminders were queued.
    """
    now = utcnow()
    queued = 0
    leads = sorted(set(days_before))
    # Each lead time covers the dates between it and the next shorter one, so a scan that
    # runs late sends the one reminder that still makes sense, not all of them at once.
    for shorter, days in zip([0, *leads], leads, strict=False):
        prefix = f"reminder:{days}d:enrolment:"
        key = literal(prefix) + cast(Enrolment.id, String)
        candidates = db_session.execute(
            select(
                Enrolment.id,
                Enrolment.employee_id,
                Enrolment.session_id,
                Enrolment.updated_at,
                CourseSession.starts_at,
            )
            .join(Enrolment.session)
            .where(
                Enrolment.status == EnrolmentStatus.BOOKED.value,
                CourseSession.cancelled_at.is_(None),
                CourseSession.starts_at > now + timedelta(days=shorter),
                CourseSession.starts_at <= now + timedelta(days=days),
                ~exists().where(OutboxMessage.key == key),
            )
        ).all()
        lead = timedelta(days=days)
        for enrolment_id, employee_id, session_id, booked_at, starts_at in candidates:
            if booked_at > starts_at - lead:
                continue  # booked inside the lead time: the confirmation was just sent
            enqueue(
                db_session,
                key=f"{prefix}{enrolment_id}",
                kind=MessageKind.SESSION_REMINDER,
                payload={
                    "enrolment_id": enrolment_id,
                    "employee_id": employee_id,
                    "session_id": session_id,
                    "days": days,
                },
            )
            queued += 1
    db_session.flush()
    return queued


def queue_requirement_reminders(
    db_session: DbSession,
    *,
    today: date,
    due_soon_days: int,
    repeat_days: int,
    escalate_to_head_days: int,
    escalate_to_hr_days: int,
) -> int:
    """Remind people whose mandatory training is due soon or overdue, and escalate.

    Due soon: once per due date. Overdue: again every ``repeat_days``. Overdue longer than
    ``escalate_to_head_days``: the responsible head is told (once per due date); longer than
    ``escalate_to_hr_days``: HR. Returns how many messages were queued.
    """
    heads = responsible_heads(db_session)
    hr_users = users_with_role(db_session, Role.HR)
    messages: list[NewMessage] = []
    rows = status_query(today=today, due_soon_days=due_soon_days).subquery()
    due = db_session.execute(
        select(
            rows.c.employee_id,
            rows.c.department_id,
            rows.c.requirement_id,
            rows.c.status,
            rows.c.due_date,
        )
        .where(rows.c.status.in_([Status.DUE_SOON.value, Status.OVERDUE.value]))
        .execution_options(yield_per=2000)
    )
    for employee_id, department_id, requirement_id, status, due_date in due:
        about = {
            "employee_id": employee_id,
            "requirement_id": requirement_id,
            "due_date": due_date.isoformat(),
        }
        subject = f"{requirement_id}:{employee_id}:{due_date.isoformat()}"
        if status == Status.DUE_SOON.value:
            messages.append(
                NewMessage(
                    f"requirement-due-soon:{subject}", MessageKind.REQUIREMENT_DUE_SOON, about
                )
            )
            continue
        overdue_days = (today - due_date).days
        round_ = overdue_days // repeat_days
        messages.append(
            NewMessage(
                f"requirement-overdue:{subject}:{round_}", MessageKind.REQUIREMENT_OVERDUE, about
            )
        )
        if overdue_days >= escalate_to_head_days:
            for head in heads.get(department_id, []):
                messages.append(
                    NewMessage(
                        f"escalation-head:{subject}:{head.id}",
                        MessageKind.ESCALATION_HEAD,
                        {**about, "user_id": head.id},
                    )
                )
        if overdue_days >= escalate_to_hr_days:
            for user in hr_users:
                messages.append(
                    NewMessage(
                        f"escalation-hr:{subject}:{user.id}",
                        MessageKind.ESCALATION_HR,
                        {**about, "user_id": user.id},
                    )
                )
    return enqueue_many(db_session, messages)


def queue_head_digests(db_session: DbSession, *, today: date, due_soon_days: int) -> int:
    """One digest a week per head whose area has people overdue or due soon."""
    year, week, _ = today.isocalendar()
    messages: list[NewMessage] = []
    for user in users_with_role(db_session, Role.HEAD):
        roots = list(user.headed_departments)
        if not roots:
            continue
        rows = status_query(today=today, due_soon_days=due_soon_days, roots=roots).subquery()
        waiting = db_session.scalar(
            select(func.count())
            .select_from(rows)
            .where(rows.c.status.in_([Status.DUE_SOON.value, Status.OVERDUE.value]))
        )
        if waiting:
            messages.append(
                NewMessage(
                    f"head-digest:{user.id}:{year}-W{week:02d}",
                    MessageKind.HEAD_DIGEST,
                    {
                        "user_id": user.id,
                        "as_of": today.isoformat(),
                        "due_soon_days": due_soon_days,
                    },
                )
            )
    return enqueue_many(db_session, messages)

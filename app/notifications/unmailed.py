"""Messages that could not be mailed because the person has no e-mail address: the list a
head (their own staff) or HR (everyone) prints and hands out, and marks as handed out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.auth.models import User
from app.core.models import TO_THE_EMPLOYEE, OutboxMessage, OutboxStatus
from app.core.types import DbSession, utcnow
from app.notifications.delivery import NO_ADDRESS
from app.notifications.letters import PrintedMessage
from app.notifications.messages import MailSettings, UnknownMessage, render
from app.notifications.models import HandedOutLetter
from app.staff.models import Department, Employee
from app.staff.services import subtree_condition

#: Shown on one page; the letters PDF prints the same selection.
LIMIT = 500


@dataclass(frozen=True)
class Unmailed:
    message: OutboxMessage
    employee: Employee


def to_hand_out(
    db_session: DbSession,
    *,
    roots: Sequence[Department] | None,
    message_ids: Sequence[int] | None = None,
    limit: int = LIMIT,
) -> list[Unmailed]:
    """Messages not mailed for want of an address and not yet handed out, oldest first; of
    ``roots``' subtrees when given (a head), of the whole city otherwise (HR)."""
    query = _unmailed(roots).order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit)
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(message_ids))
    return [Unmailed(message, employee) for message, employee in db_session.execute(query)]


def count_to_hand_out(db_session: DbSession, *, roots: Sequence[Department] | None) -> int:
    """How many messages wait to be handed out in the scope."""
    counted = _unmailed(roots).with_only_columns(func.count(OutboxMessage.id))
    return int(db_session.scalar(counted) or 0)


def mark_handed_out(
    db_session: DbSession,
    *,
    message_ids: Sequence[int],
    roots: Sequence[Department] | None,
    actor: User,
) -> int:
    """Record the messages as handed out (only those in the actor's scope); a second call for
    the same message records nothing. Returns how many were recorded now."""
    allowed = [
        item.message.id for item in to_hand_out(db_session, roots=roots, message_ids=message_ids)
    ]
    if not allowed:
        return 0
    dialect = db_session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    written = db_session.scalars(
        insert(HandedOutLetter)
        .values(
            [
                {"message_id": i, "handed_out_at": now, "handed_out_by_user_id": actor.id}
                for i in allowed
            ]
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(HandedOutLetter.id)
    ).all()
    return len(written)


def printed(
    db_session: DbSession, items: Sequence[Unmailed], settings: MailSettings
) -> Iterator[PrintedMessage]:
    """The letters for the listed messages: the text each e-mail would have had."""
    for item in items:
        try:
            rendered = render(db_session, item.message, settings)
        except UnknownMessage:  # what it was about no longer exists: nothing to hand out
            continue
        yield PrintedMessage(
            name=item.employee.full_name,
            department=item.employee.department.name,
            subject=rendered.subject,
            text=rendered.text,
        )


def _unmailed(roots: Sequence[Department] | None) -> Select[OutboxMessage, Employee]:
    employee_id = OutboxMessage.payload["employee_id"].as_integer()
    query = (
        select(OutboxMessage, Employee)
        .join(Employee, Employee.id == employee_id)
        .join(Department, Department.id == Employee.department_id)
        .where(
            OutboxMessage.status == OutboxStatus.FAILED.value,
            OutboxMessage.last_error == NO_ADDRESS,
            OutboxMessage.kind.in_([k.value for k in TO_THE_EMPLOYEE]),
            ~exists().where(HandedOutLetter.message_id == OutboxMessage.id),
            Employee.active.is_(True),
        )
    )
    if roots is not None:
        query = query.where(subtree_condition(roots))
    return query

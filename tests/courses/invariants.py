"""The promises of enrolment, checked from the raw tables after concurrent work.

Written independently of the product's own code, so a bug there cannot hide here.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import text

#: Steps the person is told about by mail (one outbox row each).
NOTIFIED = {"booked", "waitlisted", "promoted", "cancelled", "session_cancelled"}
#: Which step may follow which status, and the status it leads to.
STEPS = {
    None: {"booked": "booked", "waitlisted": "waitlisted"},
    "cancelled": {"booked": "booked", "waitlisted": "waitlisted"},
    "waitlisted": {
        "promoted": "booked",
        "cancelled": "cancelled",
        "moved_away": "cancelled",
        "session_cancelled": "cancelled",
    },
    "booked": {
        "cancelled": "cancelled",
        "moved_away": "cancelled",
        "session_cancelled": "cancelled",
        "attended": "attended",
        "no_show": "no_show",
        "excused": "excused",
    },
}


def enrolment_problems(db_session) -> list[str]:
    """Every broken promise, as a sentence; an empty list when all hold."""
    problems: list[str] = []
    sessions = db_session.execute(
        text("SELECT id, capacity, seats_taken, cancelled_at FROM course_sessions")
    ).all()
    rows = db_session.execute(
        text("SELECT id, session_id, status, waitlist_number FROM enrolments")
    ).all()
    by_session = defaultdict(list)
    for row in rows:
        by_session[row.session_id].append(row)
    for session in sessions:
        mine = by_session[session.id]
        booked = sum(1 for r in mine if r.status == "booked")
        waiting = [r for r in mine if r.status == "waitlisted"]
        if session.seats_taken != booked:
            problems.append(
                f"date {session.id}: seats_taken {session.seats_taken}, booked {booked}"
            )
        if booked > session.capacity:
            problems.append(f"date {session.id}: {booked} booked for {session.capacity} seats")
        if waiting and booked < session.capacity and session.cancelled_at is None:
            problems.append(f"date {session.id}: a seat is free while {len(waiting)} wait")
        numbers = [r.waitlist_number for r in waiting]
        if None in numbers or len(set(numbers)) != len(numbers):
            problems.append(f"date {session.id}: waiting-list numbers {sorted(map(str, numbers))}")
        if session.cancelled_at is not None and (booked or waiting):
            problems.append(f"date {session.id} is cancelled but holds people")
    events = db_session.execute(
        text("SELECT enrolment_id, action FROM enrolment_events ORDER BY id")
    ).all()
    history = defaultdict(list)
    for event in events:
        history[event.enrolment_id].append(event.action)
    for row in rows:
        status = None
        for action in history[row.id]:
            status = STEPS.get(status, {}).get(action)
            if status is None:
                problems.append(f"enrolment {row.id}: history {history[row.id]} is not possible")
                break
        else:
            if status != row.status:
                problems.append(f"enrolment {row.id} is {row.status}, history says {status}")
    told = sum(1 for event in events if event.action in NOTIFIED)
    mails = db_session.scalar(
        text("SELECT count(*) FROM outbox_messages WHERE key LIKE 'enrolment-event:%'")
    )
    if mails != told:
        problems.append(f"{told} steps people are told about, {mails} mails queued")
    return problems

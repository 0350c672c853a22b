"""Checking the kept coverage facts against the live computation.

A nightly check compares a random sample of people, a weekly one everyone, a range of people
at a time (bounded memory, short transactions); each is recorded as a ``CoverageCheck`` and
shown on the status page. The check only reports: a rebuild puts differences right.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy import func, select, update

from app.core.types import DbSession, utcnow
from app.requirements import counts
from app.requirements.facts import CHUNK, among, between, current_rebuild, differences
from app.requirements.models import CoverageCheck
from app.staff.models import Employee

KINDS = ("sample", "full")

#: Differing rows kept as examples per check.
EXAMPLES = 10


def request_check(db_session: DbSession, kind: str) -> CoverageCheck:
    """Record a check of this kind for a task to run."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of check: {kind!r}")
    check = CoverageCheck(kind=kind, examples=[])
    db_session.add(check)
    db_session.flush()
    return check


def run_check(
    db_session: DbSession,
    check_id: int,
    *,
    sample_size: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> CoverageCheck | None:
    """Run a recorded check, committing after each range of people; returns it, or None
    when it was already started (safe to run twice: the start is claimed by one UPDATE)."""
    claimed = db_session.execute(
        update(CoverageCheck)
        .where(CoverageCheck.id == check_id, CoverageCheck.started_at.is_(None))
        .values(started_at=utcnow())
    )
    if not getattr(claimed, "rowcount", 0):
        db_session.rollback()
        return None
    db_session.commit()
    check = db_session.get(CoverageCheck, check_id)
    assert check is not None
    check.rebuild_pending = current_rebuild(db_session) is not None
    if check.kind == "sample":
        _compare_sample(db_session, check, sample_size)
    else:
        _compare_everyone(db_session, check, on_progress)
    # Today's counts per department against counting the facts (one aggregate).
    check.counts_differing, count_examples = counts.differences(db_session, examples=EXAMPLES)
    check.examples = [*check.examples, *count_examples]
    check.finished_at = utcnow()
    db_session.commit()
    return check


def latest_checks(db_session: DbSession) -> dict[str, CoverageCheck]:
    """The last finished check of each kind, by kind."""
    found = {}
    for kind in KINDS:
        check = db_session.scalars(
            select(CoverageCheck)
            .where(CoverageCheck.kind == kind, CoverageCheck.finished_at.is_not(None))
            .order_by(CoverageCheck.finished_at.desc(), CoverageCheck.id.desc())
            .limit(1)
        ).first()
        if check is not None:
            found[kind] = check
    return found


def waiting_checks(db_session: DbSession, *, since: datetime) -> list[CoverageCheck]:
    """Checks requested since then that have not finished, oldest first."""
    return list(
        db_session.scalars(
            select(CoverageCheck)
            .where(CoverageCheck.finished_at.is_(None), CoverageCheck.requested_at >= since)
            .order_by(CoverageCheck.id)
        )
    )


def _compare_sample(db_session: DbSession, check: CoverageCheck, size: int) -> None:
    # Everyone, leavers too: the table must hold no rows for them.
    people = list(
        db_session.scalars(select(Employee.id).order_by(func.random()).limit(max(size, 0)))
    )
    found = differences(db_session, employees=partial(among, people), examples=EXAMPLES)
    check.people = len(people)
    check.missing, check.extra = found.missing, found.extra
    check.examples = found.examples


def _compare_everyone(
    db_session: DbSession,
    check: CoverageCheck,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    bounds = db_session.execute(select(func.min(Employee.id), func.max(Employee.id))).one()
    total = db_session.scalar(select(func.count(Employee.id))) or 0
    if bounds[0] is None:
        return
    examples: list[str] = []
    for start in range(int(bounds[0]), int(bounds[1]) + 1, CHUNK):
        end = start + CHUNK - 1
        found = differences(db_session, employees=partial(between, start, end), examples=EXAMPLES)
        people = (
            db_session.scalar(
                select(func.count(Employee.id)).where(Employee.id.between(start, end))
            )
            or 0
        )
        check.people += people
        check.missing += found.missing
        check.extra += found.extra
        examples.extend(found.examples[: EXAMPLES - len(examples)])
        check.examples = list(examples)
        # One short transaction per range: on SQLite a long one would hold the write lock.
        db_session.commit()
        if on_progress is not None:
            on_progress(check.people, total)

"""Handing work to a Celery worker from a request: commit first, then start the task.

Imports and large exports record a row, commit it, start a task with the row's id, and show a
progress page. If the task cannot be started (Redis is down; or, with tasks in-process, the task
itself raised), the row is marked so the page says so instead of waiting forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task

from app.core.types import DbSession

logger = logging.getLogger(__name__)


def commit_and_start(
    db_session: DbSession,
    task: Task[Any, Any],
    row_id: int,
    *,
    on_refused: Callable[[DbSession, int], None],
) -> bool:
    """Commit, then start ``task`` for ``row_id`` (on a worker, or in-process when no broker is
    configured). When it does not start, roll back, let ``on_refused`` mark the row and commit
    that; returns whether the task started.

    Read what the page needs from the row before calling: touching it after the commit would
    open a new transaction, and on SQLite an in-process task could then not write.
    """
    db_session.commit()
    try:
        task.delay(row_id)
    except Exception:  # Redis is down, or (in-process) the task failed: say so, never hang
        logger.warning("%s did not start for %s", task.name, row_id, exc_info=True)
        db_session.rollback()
        on_refused(db_session, row_id)
        db_session.commit()
        return False
    return True

"""Parts of pages that many people see alike, kept in Redis under the generation of their data.

The catalogue's dates look the same to every employee who asks with the same filters and
language, and change only when a course or a date changes (a booking changes a date's free
seats); a coverage page the same to everyone who may see its scope, until the counts behind it
change. Such a part is stored under a key that holds the current *generation* of its area
(``page-cache:gen:catalogue``). A transaction that wrote one of the area's tables raises the
generation once it has committed, which makes every stored part of the area unreachable on every
node at once; raising it only after the commit means no reader can store old data under the new
generation. A reader that read the old generation just before may store what it read under that
one, which nobody asks for any more.

Parts expire after ``PAGE_CACHE_SECONDS`` in any case, so a change the app did not make (one
typed into the database by hand) shows after at most that long. Without ``REDIS_URL`` nothing is
kept: a cache in one process would show that process's stale copy while another shows the new.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable

import redis
from flask import Flask, current_app, has_app_context
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

log = logging.getLogger(__name__)

#: Each area and the tables whose change changes what its parts show.
AREAS: dict[str, frozenset[str]] = {
    "catalogue": frozenset({"courses", "course_sessions"}),
    # The coverage page: kept counts or the facts they come from, what changes the facts
    # (people, exemptions, requirements and their audiences), the tree, the trend, a rebuild's
    # progress.
    "coverage": frozenset(
        {
            "coverage_counts",
            "coverage_count_days",
            "coverage_facts",
            "coverage_snapshots",
            "coverage_rebuilds",
            "departments",
            "employees",
            "exemptions",
            "requirements",
            "requirement_audience",
            "requirement_courses",
        }
    ),
}
_AREAS_OF_TABLE: dict[str, tuple[str, ...]] = {
    table: tuple(area for area, tables in AREAS.items() if table in tables)
    for table in set().union(*AREAS.values())
}
_TOUCHED = "page_cache_touched"
PREFIX = "page-cache"


class NotKept(str):
    """What ``render`` returns for a part that must be shown but not kept (it answers a question
    the data does not bound, such as a course that does not exist)."""


class PageCache:
    def __init__(self, client: redis.Redis, seconds: int) -> None:
        self.client = client
        self.seconds = seconds

    def fragment(self, area: str, key: Iterable[object], render: Callable[[], str]) -> Markup:
        """The part of ``area`` for ``key`` (everything it depends on besides the area's
        data: language, filters, page, role), rendered by ``render`` when not kept."""
        digest = hashlib.sha256(repr(tuple(key)).encode()).hexdigest()[:32]
        try:
            generation = int(self.client.get(f"{PREFIX}:gen:{area}") or 0)
            name = f"{PREFIX}:{area}:{generation}:{digest}"
            kept = self.client.get(name)
        except redis.RedisError:
            log.warning("page cache unreachable; rendering %s", area, exc_info=True)
            return _rendered(render())
        if kept is not None:
            return _rendered(kept.decode("utf-8") if isinstance(kept, bytes) else str(kept))
        text = render()
        if isinstance(text, NotKept):
            return _rendered(text)
        try:
            self.client.set(name, text.encode("utf-8"), ex=self.seconds)
        except redis.RedisError:
            log.warning("page cache unreachable; %s not kept", area, exc_info=True)
        return _rendered(text)

    def clear(self) -> None:
        """Forget every kept part (after the database was replaced under the app: a restore,
        or a test's emptied tables)."""
        for name in self.client.scan_iter(f"{PREFIX}:*", count=1000):
            self.client.delete(name)

    def changed(self, areas: Iterable[str]) -> None:
        """Raise the generation of these areas (their kept parts are gone for every node)."""
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for area in sorted(set(areas)):
                    pipe.incr(f"{PREFIX}:gen:{area}")
                pipe.execute()
        except redis.RedisError:
            # Unreachable Redis serves no stale part either (nothing can be read); a part read
            # before and kept is gone after PAGE_CACHE_SECONDS.
            log.warning("page cache unreachable; generations of %s not raised", areas)


def _rendered(html: str) -> Markup:
    """Text that ``render`` made with the app's autoescaping templates (or that was stored from
    such text), to be placed into a page as it is."""
    return Markup(html)  # noqa: S704 (rendered by autoescaping templates, see above)


def fragment(
    area: str, key: Iterable[object], render: Callable[[], str], *, keep: bool = True
) -> Markup:
    """As ``PageCache.fragment`` when the app keeps parts (Redis configured) and ``keep``;
    otherwise ``render()`` every time. Callers keep only what the data bounds (pages, courses,
    departments that exist), never whatever a client sends: Redis is the task queue too, and
    must not fill up with copies for made-up query strings."""
    cache: PageCache | None = current_app.extensions.get("page_cache")
    if cache is None or not keep:
        return _rendered(render())
    return cache.fragment(area, key, render)


def init_app(app: Flask, session: object) -> None:
    """Keep parts in Redis when configured, and raise generations after commits that wrote an
    area's tables through ``session`` (the app's scoped session)."""
    url, seconds = app.config.get("REDIS_URL"), app.config["PAGE_CACHE_SECONDS"]
    if url and seconds > 0:
        app.extensions["page_cache"] = PageCache(redis.Redis.from_url(url), seconds)
    for name, listener in (
        ("after_flush", _note_flush),
        ("do_orm_execute", _note_statement),
        ("after_commit", _raise_generations),
        ("after_rollback", _forget),
    ):
        if not event.contains(session, name, listener):
            event.listen(session, name, listener)


def _note(session: Session, tables: Iterable[str]) -> None:
    areas = {area for table in tables for area in _AREAS_OF_TABLE.get(table, ())}
    if areas:
        session.info.setdefault(_TOUCHED, set()).update(areas)


def _note_flush(session: Session, _flush_context: UOWTransaction) -> None:
    _note(
        session,
        (
            getattr(instance, "__tablename__", "")
            for instance in (*session.new, *session.dirty, *session.deleted)
        ),
    )


def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None:
            _note(state.session, (getattr(table, "name", ""),))


def _raise_generations(session: Session) -> None:
    areas = session.info.pop(_TOUCHED, None)
    if areas and has_app_context():
        cache: PageCache | None = current_app.extensions.get("page_cache")
        if cache is not None:
            cache.changed(areas)


def _forget(session: Session) -> None:
    session.info.pop(_TOUCHED, None)

"""Audit entries for every change of an audited model, written in the flush that makes it.

A model takes part by naming the attributes the log keeps::

    class Course(Model):
        __audit__ = ("code", "title", "archived")
        __audit_entity__ = "course"  # default: the table's name
        __audit_secret__ = ()  # recorded only as "(set)"/None, never the value (a password hash)

Only the named attributes are copied, so free text about a person is not copied needlessly; an
update that touches none of them writes nothing. Relationship collections (a requirement's
courses) are kept as the sorted ids of the related rows.

The entries are inserted inside ``after_flush`` on the flush's own connection, so they commit
or roll back with the change. Core statements (``update(...)``, ``insert(...)`` executed
directly) bypass the unit of work: their callers record with ``record_change`` themselves.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from sqlalchemy import Table, event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction, scoped_session
from sqlalchemy.orm.attributes import NO_VALUE, get_history
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE
from sqlalchemy.orm.state import InstanceState

from app.core.audit import Actor, AuditEntry, Channel, _json_dict, current_actor
from app.core.types import DbSession, utcnow

HIDDEN_SET = "(set)"
HIDDEN_CHANGED = "(changed)"


class Login(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


def user_actor(user: Login, channel: Channel | None = None) -> Actor:
    """``user`` as the actor, by default reached the way the current actor came (web, task,
    CLI): for work done on someone's behalf, such as an import a worker applies after HR
    confirmed it, or for a person not logged in yet (a password reset link)."""
    return Actor(user_id=user.id, name=user.email, channel=channel or current_actor().channel)


def commit_access_log(db_session: DbSession) -> None:
    """Commit what a page recorded in the access log without expiring what the page has loaded:
    it is rendered (or streamed) after the commit, and reading every row again would cost a
    statement per row, or fail once a streamed response's objects have left the session."""
    session = db_session() if isinstance(db_session, scoped_session) else db_session
    expiring = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring


def register_audit_trail() -> None:
    """Listen to every ORM session's flushes (once per process)."""
    if not event.contains(Session, "after_flush", _write_audit_entries):
        event.listen(Session, "after_flush", _write_audit_entries)


def _write_audit_entries(session: Session, _flush_context: UOWTransaction) -> None:
    changes: list[tuple[str, object, dict[str, Any] | None, dict[str, Any] | None]] = []
    for obj in session.new:
        if _audited(obj):
            changes.append(("create", obj, None, _values(obj)))
    for obj in session.dirty:
        if _audited(obj):
            before, after = _differences(obj)
            if after:
                changes.append(("update", obj, before, after))
    for obj in session.deleted:
        if _audited(obj):
            changes.append(("delete", obj, _values(obj), None))
    if not changes:
        return
    who = current_actor()
    now = utcnow()
    rows = [
        {
            "at": now,
            "actor_user_id": who.user_id,
            "actor": who.name[:254],
            "channel": who.channel.value,
            "action": action,
            "entity": _entity(obj),
            "entity_id": _entity_id(obj),
            "before": _json_dict(before),
            "after": _json_dict(after),
        }
        for action, obj, before, after in changes
    ]
    session.connection().execute(insert(cast(Table, AuditEntry.__table__)), rows)


def _audited(obj: object) -> bool:
    return bool(getattr(type(obj), "__audit__", None))


def _entity(obj: object) -> str:
    cls = type(obj)
    return str(getattr(cls, "__audit_entity__", None) or getattr(cls, "__tablename__", "?"))


def _entity_id(obj: object) -> str | None:
    key = _primary_key(obj)
    return None if key is None else "-".join(str(part) for part in key)


def _primary_key(obj: object) -> tuple[Any, ...] | None:
    """The row's key; a row inserted in this flush has no identity yet, only its key values."""
    state: InstanceState[Any] = inspect(obj)
    if state.identity:
        return tuple(state.identity)
    mapper = state.mapper
    key = tuple(
        state.dict.get(mapper.get_property_by_column(column).key) for column in mapper.primary_key
    )
    return None if None in key else key


def _values(obj: object) -> dict[str, Any]:
    """The audited attributes as they are in memory (no loading: the row may be gone)."""
    state: InstanceState[Any] = inspect(obj)
    values: dict[str, Any] = {}
    for name in type(obj).__audit__:  # type: ignore[attr-defined]
        value = state.dict.get(name, state.committed_state.get(name, NO_VALUE))
        if value is NO_VALUE:
            continue
        values[name] = _shown(type(obj), name, value)
    return values


def _differences(obj: object) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in type(obj).__audit__:  # type: ignore[attr-defined]
        history = get_history(obj, name, passive=PASSIVE_NO_INITIALIZE)
        if not history.has_changes():
            continue
        if _is_relationship(type(obj), name):  # a collection: compare the related rows
            kept = list(history.unchanged or ())
            old = kept + list(history.deleted or ())
            new = kept + list(history.added or ())
            if {id(o) for o in old} == {id(o) for o in new}:
                continue
            before[name], after[name] = _ids(old), _ids(new)
            continue
        old_value = history.deleted[0] if history.deleted else None
        new_value = history.added[0] if history.added else None
        if old_value == new_value:
            continue
        before[name] = _shown(type(obj), name, old_value)
        after[name] = _shown(type(obj), name, new_value)
        if before[name] == after[name] == HIDDEN_SET:  # a new password: say that, not what
            after[name] = HIDDEN_CHANGED
    return before, after


def _shown(cls: type, name: str, value: object) -> object:
    if name in getattr(cls, "__audit_secret__", ()):
        return None if value is None else HIDDEN_SET
    if _is_relationship(cls, name):
        related = value if isinstance(value, list | tuple | set) else [value]
        return _ids([o for o in related if o is not None])
    return value


def _ids(objects: list[Any]) -> list[Any]:
    keys = (_primary_key(o) for o in objects)
    return sorted(key[0] for key in keys if key)


def _is_relationship(cls: type, name: str) -> bool:
    return name in inspect(cls).relationships

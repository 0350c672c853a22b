"""The audit log keeps every entry as written; the access log records whose data was shown."""

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DatabaseError

from app.core.audit import (
    AccessEvent,
    AccessEventEmployee,
    Actor,
    AuditEntry,
    Channel,
    acting_as,
    current_actor,
    record_access,
    record_change,
)
from app.staff.models import Employee


def test_a_change_is_recorded_with_who_and_the_values_before_and_after(db):
    with acting_as(Actor(user_id=None, name="flask import-staff", channel=Channel.CLI)):
        record_change(
            db.session,
            action="update",
            entity="course",
            entity_id=7,
            before={"title": "Alt"},
            after={"title": "Neu"},
        )
    db.session.commit()

    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.actor, entry.channel, entry.entity, entry.entity_id) == (
        "flask import-staff",
        "cli",
        "course",
        "7",
    )
    assert entry.before == {"title": "Alt"} and entry.after == {"title": "Neu"}


def test_outside_a_request_the_system_acts(db):
    assert current_actor().name == "system"


@pytest.mark.parametrize(
    "statement",
    [update(AuditEntry).values(actor="jemand anders"), delete(AuditEntry)],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_delete_an_audit_entry(db, statement):
    record_change(db.session, action="create", entity="course", entity_id=1, after={"a": 1})
    db.session.commit()

    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(statement)
        db.session.flush()
    db.session.rollback()

    assert db.session.scalars(select(AuditEntry.actor)).all() == ["system"]


def test_access_to_people_is_recorded_from_ids_or_from_a_query(db, make, hr):
    anna, _ben = make.employee(), make.employee()
    actor = Actor(user_id=hr.id, name=hr.email, channel=Channel.WEB)

    record_access(db.session, purpose="person", employee_ids=[anna.id, anna.id], actor=actor)
    record_access(
        db.session,
        purpose="export",
        employee_ids=select(Employee.id),
        detail="coverage.csv",
        actor=actor,
    )
    assert record_access(db.session, purpose="people_list", employee_ids=[], actor=actor) is None
    db.session.commit()

    seen = db.session.execute(
        select(AccessEvent.purpose, func.count())
        .join(AccessEventEmployee)
        .group_by(AccessEvent.purpose)
        .order_by(AccessEvent.purpose)
    ).all()
    assert seen == [("export", 2), ("person", 1)]
    assert {event.viewer for event in db.session.scalars(select(AccessEvent))} == {hr.email}

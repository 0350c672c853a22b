"""Retention: a dry run counts exactly what a real run changes, a real run changes exactly
those rows (and a second run nothing more), and kept coverage stays consistent."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.auth.models import LoginLink, User, UserIdentity, UserRole
from app.core.audit import AccessEvent, AccessEventEmployee, AuditEntry, record_access
from app.core.models import OutboxAttempt, OutboxMessage, OutboxStatus
from app.core.sql import months_after
from app.core.types import BERLIN, utcnow
from app.courses.models import CalendarFeed, Completion, Enrolment, EnrolmentEvent
from app.imports.models import ImportRun, ImportStatus
from app.privacy import retention
from app.privacy.models import RetentionRun
from app.reports.models import ReportFile, ReportStatus
from app.requirements import counts, facts
from app.requirements.models import AudienceRule, Exemption, Requirement
from app.staff.models import Employee

#: The tests' data lie around now, so that ``flask retention`` (which runs at now) sees them.
NOW = utcnow().replace(microsecond=0)
TODAY = NOW.astimezone(BERLIN).date()
PERIODS = retention.Periods(
    leaver_months=24,
    outbox_body_days=90,
    import_file_days=30,
    report_file_days=30,
    access_log_months=12,
)
#: The tables a run may change, each with the columns that identify a row.
WATCHED = {
    "employees": Employee,
    "calendar_feeds": CalendarFeed,
    "users": User,
    "user_roles": UserRole,
    "user_identities": UserIdentity,
    "login_links": LoginLink,
    "enrolment_events": EnrolmentEvent,
    "completions": Completion,
    "exemptions": Exemption,
    "outbox_messages": OutboxMessage,
    "outbox_attempts": OutboxAttempt,
    "import_runs": ImportRun,
    "report_files": ReportFile,
    "access_events": AccessEvent,
    "access_event_employees": AccessEventEmployee,
}


def _person(make, db, department, course, requirement, hr, *, exit_date, name, active=None):
    person = make.employee(
        department,
        first_name=name,
        last_name="Leaver",
        email=f"{name.lower()}@stadt.example",
        position="Sachbearbeitung",
        exit_date=exit_date,
        active=exit_date is None if active is None else active,
    )
    login = make.user(f"{name.lower()}.login@stadt.example", employee=person)
    session = make.course_session(course, starts_in=timedelta(days=-900))
    enrolment = Enrolment(session_id=session.id, employee_id=person.id, status="attended")
    enrolment.events.append(
        EnrolmentEvent(action="booked", actor_user_id=hr.id, note=f"Wunsch von {name}")
    )
    db.session.add_all(
        [
            enrolment,
            Completion(
                employee=person,
                course=course,
                completed_on=date(2023, 6, 1),
                valid_until=date(2026, 6, 1),
                certificate_ref=f"Zertifikat {name}",
            ),
            Exemption(
                employee_id=person.id,
                requirement_id=requirement.id,
                reason=f"Elternzeit {name}",
                starts_on=date(2023, 1, 1),
                created_by_user_id=hr.id,
            ),
            UserIdentity(user_id=login.id, source="ldap", subject=f"cn={name},dc=stadt"),
            LoginLink(
                purpose="reset",
                user_id=login.id,
                token_hash=f"{name:0<64}"[:64],
                created_at=NOW - timedelta(days=1),
                expires_at=NOW + timedelta(days=1),
            ),
            OutboxMessage(
                key=f"to-{name}",
                kind="booked",
                payload={"employee_id": person.id},
                status=OutboxStatus.SENT.value,
                sent_at=NOW - timedelta(days=10),
                recipient=person.email,
                subject="Anmeldung",
            ),
        ]
    )
    db.session.commit()
    return person


@pytest.fixture
def world(make, db, hr):
    department = make.department()
    course = make.course()
    requirement = Requirement(name="Datenschutz", first_due_date=date(2024, 1, 1))
    requirement.courses.append(course)
    requirement.audience.append(AudienceRule(kind="all"))
    db.session.add(requirement)
    db.session.commit()
    due_leaver = _person(
        make, db, department, course, requirement, hr,
        exit_date=months_after(TODAY, -24), name="Alt",
    )  # fmt: skip
    recent_leaver = _person(
        make, db, department, course, requirement, hr,
        exit_date=months_after(TODAY, -23), name="Neu",
    )  # fmt: skip
    # Back on staff, the old exit date not yet cleared: still here, never anonymised.
    _person(
        make, db, department, course, requirement, hr,
        exit_date=months_after(TODAY, -30), name="Wieder", active=True,
    )  # fmt: skip
    stayer = _person(make, db, department, course, requirement, hr, exit_date=None, name="Bleibt")

    def message(key, *, sent_days_ago, status=OutboxStatus.SENT.value):
        row = OutboxMessage(
            key=key,
            kind="requirement_due_soon",
            payload={"employee_id": stayer.id, "requirement_id": requirement.id},
            status=status,
            last_error="smtp: 451 for bleibt@stadt.example",
            sent_at=NOW - timedelta(days=sent_days_ago) if status == "sent" else None,
            recipient="bleibt@stadt.example",
        )
        row.delivery_attempts.append(OutboxAttempt(worker="w1", error="451 bleibt"))
        return row

    def upload(token, *, days_ago, status=ImportStatus.DONE.value):
        return ImportRun(
            token=token,
            kind="staff",
            filename="personal.csv",
            size_bytes=20,
            content=b"Nachname;Vorname\nMuster;Erika\n",
            status=status,
            report_json='{"counts": {"new": 1}, "new": [{"label": "Muster, Erika"}]}',
            created_at=NOW - timedelta(days=days_ago),
        )

    def export(token, *, days_ago, status=ReportStatus.DONE.value):
        return ReportFile(
            token=token,
            requested_by_user_id=hr.id,
            format="csv",
            status=status,
            filename="abdeckung.csv",
            content=b"Name\nErika Muster\n",
            created_at=NOW - timedelta(days=days_ago),
            finished_at=NOW - timedelta(days=days_ago) if status == "done" else None,
        )

    db.session.add_all(
        [
            message("old-sent", sent_days_ago=91),
            message("new-sent", sent_days_ago=89),
            message("old-failed", sent_days_ago=200, status=OutboxStatus.FAILED.value),
            upload("old-done", days_ago=31),
            upload("old-ready", days_ago=31, status=ImportStatus.READY.value),
            upload("old-busy", days_ago=31, status=ImportStatus.CHECKING.value),
            upload("new-done", days_ago=29),
            export("old-done", days_ago=31),
            export("old-running", days_ago=31, status=ReportStatus.RUNNING.value),
            export("new-done", days_ago=29),
        ]
    )
    db.session.add_all(
        [CalendarFeed(employee=due_leaver, nonce="a"), CalendarFeed(employee=stayer, nonce="b")]
    )
    db.session.commit()
    for months in (13, 11):
        event = record_access(
            db.session, purpose="person", employee_ids=[stayer.id, due_leaver.id], detail="x"
        )
        event.at = NOW - timedelta(days=months * 30.5)
    db.session.commit()
    counts.build(db.session, day=TODAY, due_soon_days=30)
    db.session.commit()
    return SimpleNamespace(due_leaver=due_leaver, recent_leaver=recent_leaver, stayer=stayer, hr=hr)


EXPECTED = {
    "leavers": 1,
    "outbox_bodies": 1,
    "import_files": 2,
    "report_files": 1,
    "access_log": 1,
}


def test_a_dry_run_counts_exactly_what_is_due_and_changes_nothing(db, world):
    before = _snapshot(db)
    assert retention.count_due(db.session, PERIODS, NOW) == EXPECTED
    report = retention.run(db.session, periods=PERIODS, now=NOW, apply=False, source="cli")
    assert report.counts == EXPECTED and report.applied is False
    assert _snapshot(db) == before
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention")).one()
    assert entry.after == {"applied": False, "source": "cli", "counts": EXPECTED}


def test_a_run_changes_exactly_the_due_rows_and_a_second_run_nothing(db, world):
    before = _snapshot(db)
    report = retention.run(db.session, periods=PERIODS, now=NOW, apply=True, source="cli", batch=1)
    assert report.counts == EXPECTED
    after = _snapshot(db)
    changed = {
        table: {key for key in before[table].keys() | after[table].keys()
                if before[table].get(key) != after[table].get(key)}
        for table in WATCHED
    }  # fmt: skip
    leaver, login = world.due_leaver, _login_of(db, world.due_leaver)
    leaver_enrolment = db.session.scalar(
        select(Enrolment.id).where(Enrolment.employee_id == leaver.id)
    )
    assert changed["employees"] == {(leaver.id,)}
    assert changed["calendar_feeds"] == {
        key for key, row in before["calendar_feeds"].items() if row["employee_id"] == leaver.id
    }
    assert changed["users"] == {(login.id,)}
    assert changed["user_roles"] == {(row,) for row in _ids(before, "user_roles", login.id)}
    assert changed["user_identities"] == {
        (row,) for row in _ids(before, "user_identities", login.id)
    }
    assert changed["login_links"] == {(row,) for row in _ids(before, "login_links", login.id)}
    assert changed["enrolment_events"] == {
        (row.id,)
        for row in db.session.scalars(
            select(EnrolmentEvent).where(EnrolmentEvent.enrolment_id == leaver_enrolment)
        )
    }
    assert changed["completions"] == {
        (id_,) for id_ in db.session.scalars(select(Completion.id).filter_by(employee_id=leaver.id))
    }
    assert changed["exemptions"] == {
        (id_,) for id_ in db.session.scalars(select(Exemption.id).filter_by(employee_id=leaver.id))
    }
    old_sent = db.session.scalars(select(OutboxMessage).filter_by(key="old-sent")).one()
    to_leaver = db.session.scalars(select(OutboxMessage).filter_by(key="to-Alt")).one()
    assert changed["outbox_messages"] == {(old_sent.id,), (to_leaver.id,)}
    assert changed["outbox_attempts"] == {(old_sent.delivery_attempts[0].id,)}
    assert {before["import_runs"][key]["token"] for key in changed["import_runs"]} == {
        "old-done",
        "old-ready",
    }
    assert {before["report_files"][key]["token"] for key in changed["report_files"]} == {"old-done"}
    assert len(changed["access_events"]) == 1 and len(changed["access_event_employees"]) == 2

    # What changed, changed as promised.
    db.session.expire_all()
    assert (leaver.first_name, leaver.last_name, leaver.email, leaver.position) == (
        "",
        "",
        None,
        None,
    )
    assert leaver.personnel_number == f"anon-{leaver.id}"
    assert leaver.department_id == world.stayer.department_id and leaver.exit_date is not None
    assert leaver.anonymised_at is not None and leaver.active is False
    assert login.active is False and login.password_hash is None
    assert "alt" not in login.email and login.roles == set()
    assert to_leaver.recipient == "" and old_sent.payload == {"employee_id": world.stayer.id}
    assert old_sent.last_error == "" and old_sent.body_cleared_at is not None
    old_ready = db.session.scalars(select(ImportRun).filter_by(token="old-ready")).one()
    assert old_ready.status == "discarded" and old_ready.report["new"] == []
    assert old_ready.report["counts"] == {"new": 1}
    # The person who left a month less ago, and the one still here, keep everything.
    for person in (world.recent_leaver, world.stayer):
        assert person.first_name in ("Neu", "Bleibt") and person.anonymised_at is None
    # Kept coverage (facts and today's counts) still agrees with the data.
    assert facts.differences(db.session).total == 0
    assert counts.differences(db.session)[0] == 0

    again = retention.run(db.session, periods=PERIODS, now=NOW, apply=True, source="cli")
    assert again.counts == dict.fromkeys(retention.CATEGORIES, 0)
    assert _snapshot(db) == after
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "retention")) == 2  # fmt: skip


def test_the_nightly_task_reports_and_applies_only_when_told(db, world, app, celery_worker):
    """On a real worker on PostgreSQL + Redis; in-process on SQLite. The task is taken from
    this app's Celery (another test's app may be Celery's current one), so it reads this
    app's ``RETENTION_APPLY``."""
    run_retention = app.extensions["celery"].tasks["privacy.run_retention"]
    db.session.commit()
    before = _snapshot(db)
    db.session.rollback()  # the task runs on a connection of its own
    assert run_retention.delay().get(timeout=60) == EXPECTED
    db.session.rollback()
    reports = db.session.scalars(select(RetentionRun)).all()
    assert [(r.source, r.applied) for r in reports] == [("nightly", False)]
    assert _snapshot(db) == before
    app.config["RETENTION_APPLY"] = True
    db.session.rollback()
    try:
        assert run_retention.delay().get(timeout=60) == EXPECTED
    finally:
        app.config["RETENTION_APPLY"] = False
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(RetentionRun)) == 2
    assert _snapshot(db) != before


def test_the_beat_schedule_runs_retention_nightly(app):
    schedule = app.config["CELERY"]["beat_schedule"]
    assert any(entry["task"] == "privacy.run_retention" for entry in schedule.values())


def test_flask_retention_prints_the_counts_and_applies_without_dry_run(app, db, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "leavers: would change 1" in result.output
    assert "import_files: would change 2" in result.output
    dry = db.session.scalars(select(RetentionRun)).one()
    assert dry.applied is False and dry.source == "cli"
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "leavers: changed 1" in result.output
    assert db.session.get(Employee, world.due_leaver.id).first_name == ""
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(RetentionRun)) == 2


# --- helpers ----------------------------------------------------------------------------


def _snapshot(db) -> dict[str, dict[tuple, dict]]:
    db.session.expire_all()
    shot = {}
    for name, model in WATCHED.items():
        table = model.__table__
        keys = [column.name for column in table.primary_key.columns]
        shot[name] = {
            tuple(row[k] for k in keys): {k: v for k, v in row.items() if k not in ("updated_at",)}
            for row in (r._asdict() for r in db.session.execute(select(table)))
        }
    return shot


def _ids(shot, table, user_id):
    return [key[0] for key, row in shot[table].items() if row.get("user_id") == user_id]


def _login_of(db, person) -> User:
    return db.session.scalars(select(User).filter_by(employee_id=person.id)).one()

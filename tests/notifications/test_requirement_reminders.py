"""Due-soon and overdue reminders, the escalation ladder and the weekly head digest."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.core.models import OutboxMessage
from app.core.roles import Role
from app.notifications import delivery
from app.notifications.scans import queue_head_digests, queue_requirement_reminders
from app.requirements.models import AudienceKind, AudienceRule, Requirement

TODAY = date(2026, 6, 15)


def scan(db, today=TODAY):
    queued = queue_requirement_reminders(
        db.session,
        today=today,
        due_soon_days=30,
        repeat_days=14,
        escalate_to_head_days=30,
        escalate_to_hr_days=60,
    )
    db.session.commit()
    return queued


@pytest.fixture
def area(db, make, hr):
    """Kinderbetreuung (with a head) > Kita; a requirement for everyone, due 1 May 2026."""
    care = make.department("KB", name="Kinderbetreuung")
    kita = make.department("KB-1", name="Kita Buchenbusch", parent=care)
    head = make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(care,))
    course = make.course("IKK", title="Interkulturelle Kompetenz")
    rule = Requirement(name="Basis", first_due_date=date(2026, 5, 1), courses=[course])
    rule.audience = [AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=care)]
    db.session.add(rule)
    db.session.commit()
    return {"care": care, "kita": kita, "head": head, "rule": rule, "course": course}


def kinds(db):
    return sorted(db.session.scalars(select(OutboxMessage.kind)))


def test_overdue_reminder_once_per_round_then_again(db, make, area):
    make.employee(area["kita"], entry_date=date(2015, 1, 1))
    scan(db)  # 45 days overdue: a reminder, and the head of Kinderbetreuung is told
    assert kinds(db) == ["escalation_head", "requirement_overdue"]
    assert scan(db) == 0  # the same day again: nothing new
    assert scan(db, TODAY + timedelta(days=3)) == 0  # same 14-day round
    assert scan(db, TODAY + timedelta(days=14)) == 1  # next round: 59 days, no HR yet
    assert scan(db, TODAY + timedelta(days=15)) == 1  # 60 days: HR is told
    assert kinds(db) == [
        "escalation_head",
        "escalation_hr",
        "requirement_overdue",
        "requirement_overdue",
    ]


def test_due_soon_only_once_per_due_date(db, make, area):
    area["rule"].first_due_date = TODAY + timedelta(days=10)
    db.session.commit()
    make.employee(area["kita"], entry_date=date(2015, 1, 1))
    scan(db)
    scan(db, TODAY + timedelta(days=2))
    assert kinds(db) == ["requirement_due_soon"]


def test_reminders_and_escalation_arrive_in_the_right_language(db, make, area, smtp):
    person = make.employee(
        area["kita"],
        first_name="Sam",
        last_name="Lee",
        email="sam@stadt.example",
        locale="en",
        entry_date=date(2015, 1, 1),
    )
    make.course_session(area["course"], starts_in=timedelta(days=12))
    scan(db)
    report = delivery.deliver_pending(db.session)
    assert report.failed == 0
    to_sam = [m for m in smtp.messages if m["To"].addresses[0].addr_spec == "sam@stadt.example"]
    assert [m["Subject"] for m in to_sam] == ["Mandatory training overdue: Basis"]
    body = to_sam[0].get_body(("plain",)).get_content()
    assert "since 01/05/2026" in body or "since May 1, 2026" in body
    assert "/courses/sessions/" in body
    to_head = [
        m for m in smtp.messages if m["To"].addresses[0].addr_spec == "leitung@stadt.example"
    ]
    escalation = [m for m in to_head if m["Subject"].startswith("Überfällig in Ihrem Bereich")]
    assert any("Sam Lee" in m.get_body(("plain",)).get_content() for m in escalation)
    assert person.id


def test_one_weekly_digest_per_head(db, make, area, smtp):
    for n in range(3):
        make.employee(area["kita"], last_name=f"Offen{n}", entry_date=date(2015, 1, 1))
    assert queue_head_digests(db.session, today=TODAY, due_soon_days=30) == 1
    db.session.commit()
    assert queue_head_digests(db.session, today=TODAY + timedelta(days=2), due_soon_days=30) == 0
    db.session.commit()
    delivery.deliver_pending(db.session)
    (digest,) = [m for m in smtp.messages if m["Subject"].startswith("Wochenübersicht")]
    text = digest.get_body(("plain",)).get_content()
    assert all(f"Offen{n}" in text for n in range(3))
    assert queue_head_digests(db.session, today=TODAY + timedelta(days=7), due_soon_days=30) == 1


def test_employee_without_email_is_listed_not_crashed(db, make, area, smtp):
    make.employee(area["kita"], email=None, entry_date=date(2015, 1, 1))
    scan(db)
    report = delivery.deliver_pending(db.session)
    assert report.failed == 1
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
    assert failed.last_error == "no e-mail address"

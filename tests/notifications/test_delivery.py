"""Messages leave through the outbox once each, to a real SMTP server, in the person's language."""

from datetime import timedelta

import time_machine
from icalendar import Calendar
from sqlalchemy import select

from app.core.models import OutboxMessage
from app.core.types import utcnow
from app.courses.services import catalogue, enrolment
from app.notifications import delivery
from app.notifications.scans import queue_session_reminders


def calendar_of(message):
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return part, Calendar.from_ical(part.get_content())
    return None, None


def test_booking_confirmation_in_german_with_invite(db, make, hr, smtp):
    person = make.employee(first_name="Çağla", last_name="Kovačević", email="cagla@stadt.example")
    course_session = make.course_session(
        make.course(title="Elternarbeit mit zugewanderten Familien"), location="Kita Buchenbusch"
    )
    enrolment.enrol(db.session, employee=person, course_session=course_session, actor=hr)
    db.session.commit()
    report = delivery.deliver_pending(db.session)
    assert (report.sent, report.failed) == (1, 0)
    (mail,) = smtp.messages
    assert mail["To"].addresses[0].addr_spec == "cagla@stadt.example"
    assert mail["Subject"] == "Anmeldung bestätigt: Elternarbeit mit zugewanderten Familien"
    assert "Hallo Çağla Kovačević" in mail.get_body(("plain",)).get_content()
    assert mail.get_body(("html",)) is not None
    part, calendar = calendar_of(mail)
    assert part.get_param("method") == "REQUEST"
    event = next(iter(calendar.walk("VEVENT")))
    assert (
        str(event["uid"]) == f"course-session-{course_session.id}@schulungen.neu-isenburg.example"
    )
    assert str(event["location"]) == "Kita Buchenbusch"
    assert str(event["attendee"]) == "mailto:cagla@stadt.example"
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"


def test_english_speakers_get_english(db, make, hr, smtp):
    person = make.employee(email="sam@stadt.example", locale="en")
    course_session = make.course_session(capacity=1)
    enrolment.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    enrolment.enrol(db.session, employee=person, course_session=course_session, actor=hr)
    db.session.commit()
    delivery.deliver_pending(db.session)
    english = [m for m in smtp.messages if m["To"].addresses[0].addr_spec == "sam@stadt.example"]
    assert [m["Subject"].split(":")[0] for m in english] == ["You are on the waiting list"]
    assert calendar_of(english[0]) == (None, None)  # no invite for a waiting-list place


def test_cancelled_session_sends_method_cancel(db, make, hr, smtp):
    course_session = make.course_session()
    enrolment.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    db.session.commit()
    delivery.deliver_pending(db.session)
    catalogue.cancel_session(db.session, course_session, actor=hr, reason="Referentin erkrankt")
    db.session.commit()
    delivery.deliver_pending(db.session)
    cancel_mail = smtp.messages[-1]
    assert cancel_mail["Subject"].startswith("Termin abgesagt")
    part, calendar = calendar_of(cancel_mail)
    assert part.get_param("method") == "CANCEL"
    event = next(iter(calendar.walk("VEVENT")))
    assert str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 1


def test_same_reminder_twice_is_one_mail(db, make, hr, smtp):
    course_session = make.course_session(starts_in=timedelta(days=10))
    enrolment.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    db.session.commit()
    delivery.deliver_pending(db.session)
    with time_machine.travel(utcnow() + timedelta(days=4)):
        assert queue_session_reminders(db.session, days_before=[7, 1]) == 1
        db.session.commit()
        assert queue_session_reminders(db.session, days_before=[7, 1]) == 0
        db.session.commit()
        delivery.deliver_pending(db.session)
        delivery.deliver_pending(db.session)
    reminders = [m for m in smtp.messages if m["Subject"].startswith("Erinnerung")]
    assert len(reminders) == 1
    assert (
        "in 7 Tagen" in reminders[0].get_body(("plain",)).get_content()
        or "Tag" in reminders[0].get_body(("plain",)).get_content()
    )


def test_smtp_down_then_up_delivers_once(db, make, hr, smtp, monkeypatch, app):
    course_session = make.course_session()
    enrolment.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    db.session.commit()
    smtp.stop()
    report = delivery.deliver_pending(db.session)
    assert (report.sent, report.retrying) == (0, 1)
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == "queued" and row.attempts == 1 and row.last_error
    assert delivery.deliver_pending(db.session).sent == 0  # backing off: not due yet
    smtp.start_again()
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert delivery.deliver_pending(db.session).sent == 1
        assert delivery.deliver_pending(db.session).sent == 0
    assert len(smtp.messages) == 1


def test_refused_address_fails_with_the_server_answer(db, make, hr, smtp):
    smtp.refuse.add("gibt-es-nicht@stadt.example")
    person = make.employee(email="gibt-es-nicht@stadt.example")
    other = make.employee(email="ok@stadt.example")
    course_session = make.course_session()
    for p in (person, other):
        enrolment.enrol(db.session, employee=p, course_session=course_session, actor=hr)
    db.session.commit()
    report = delivery.deliver_pending(db.session)
    assert (report.sent, report.failed) == (1, 1)
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
    assert "550" in failed.last_error
    assert failed.recipient.endswith("<gibt-es-nicht@stadt.example>")


def test_employee_without_email_is_listed_for_hr(db, make, hr, smtp, client, login):
    person = make.employee(email=None, last_name="Ohne-Mail")
    enrolment.enrol(db.session, employee=person, course_session=make.course_session(), actor=hr)
    db.session.commit()
    report = delivery.deliver_pending(db.session)
    assert report.failed == 1
    login("hr@stadt.example")
    page = client.get("/notifications/outbox").get_data(as_text=True)
    assert "no e-mail address" in page


def test_a_broken_message_fails_alone(db, make, hr, smtp, monkeypatch):
    course_session = make.course_session()
    for _ in range(3):
        enrolment.enrol(
            db.session, employee=make.employee(), course_session=course_session, actor=hr
        )
    db.session.commit()
    real_build = delivery.build_message
    calls = {"n": 0}

    def flaky_build(db_session, outbox, settings):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyError("template variable missing")
        return real_build(db_session, outbox, settings)

    monkeypatch.setattr(delivery, "build_message", flaky_build)
    report = delivery.deliver_pending(db.session)
    assert (report.sent, report.failed) == (2, 1)
    assert len(smtp.messages) == 2


def test_two_workers_never_claim_the_same_message(db, make, hr):
    course_session = make.course_session(capacity=10)
    for _ in range(6):
        enrolment.enrol(
            db.session, employee=make.employee(), course_session=course_session, actor=hr
        )
    db.session.commit()
    db.session.execute(
        OutboxMessage.__table__.update().values(status="queued", next_attempt_at=utcnow())
    )
    db.session.commit()
    first = delivery.claim_due(db.session, limit=4, worker="a")
    second = delivery.claim_due(db.session, limit=4, worker="b")
    db.session.commit()
    assert len(first) == 4 and len(second) == 2 and not set(first) & set(second)


def test_claim_of_a_dead_worker_is_taken_over_after_the_lease(db, make, hr):
    enrolment.enrol(
        db.session, employee=make.employee(), course_session=make.course_session(), actor=hr
    )
    db.session.commit()
    db.session.execute(OutboxMessage.__table__.update().values(status="queued"))
    db.session.commit()
    assert len(delivery.claim_due(db.session, limit=10, worker="dead")) == 1  # it "dies" now
    db.session.commit()
    assert delivery.claim_due(db.session, limit=10, worker="alive") == []
    later = utcnow() + delivery.CLAIM_LEASE + timedelta(minutes=1)
    assert len(delivery.claim_due(db.session, limit=10, worker="alive", now=later)) == 1


def test_hr_retries_failed_messages(db, make, hr, smtp, client, login):
    person = make.employee(email=None)
    enrolment.enrol(db.session, employee=person, course_session=make.course_session(), actor=hr)
    db.session.commit()
    delivery.deliver_pending(db.session)
    person.email = "jetzt-da@stadt.example"
    db.session.commit()
    login("hr@stadt.example")
    from tests.conftest import csrf_token

    token = csrf_token(client, "/notifications/outbox")
    assert client.post("/notifications/outbox/retry", data={"csrf_token": token}).status_code == 302
    delivery.deliver_pending(db.session)
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["jetzt-da@stadt.example"]


def test_cli_sends_due_reminders(app, db, make, hr, smtp):
    course_session = make.course_session(starts_in=timedelta(days=10))
    enrolment.enrol(db.session, employee=make.employee(), course_session=course_session, actor=hr)
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=9, hours=1)):
        result = app.test_cli_runner().invoke(args=["send-due-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 reminders queued; 2 sent" in result.output

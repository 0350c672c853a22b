"""A slow mail server and two workers: every message goes out once, and every try is on record."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from app.core.models import OutboxAttempt, OutboxMessage
from app.core.types import utcnow
from app.courses.services import enrolment
from app.extensions import db as _db
from app.notifications import delivery


def test_two_workers_and_a_slow_mail_server_send_each_message_once(
    app, db, make, hr, smtp, monkeypatch
):
    smtp.delay = 0.4  # 10 messages take one worker 4 s; the lease is 1.5 s
    monkeypatch.setitem(app.config, "OUTBOX_CLAIM_LEASE_SECONDS", 1.5)
    course_session = make.course_session(capacity=20)
    for _ in range(10):
        enrolment.enrol(
            db.session, employee=make.employee(), course_session=course_session, actor=hr
        )
    db.session.commit()

    first_done = threading.Event()

    def first_worker():
        with app.app_context():
            delivery.deliver_pending(_db.session)
            _db.session.remove()
        first_done.set()

    def second_worker():  # the periodic sweep of another node, every 0.2 s
        with app.app_context():
            while not first_done.is_set():
                delivery.deliver_pending(_db.session)
                time.sleep(0.2)
            _db.session.remove()

    threads = [threading.Thread(target=first_worker), threading.Thread(target=second_worker)]
    threads[0].start()
    time.sleep(0.1)  # the first worker claims the whole batch
    threads[1].start()
    for thread in threads:
        thread.join(timeout=60)

    received = Counter(m["Message-ID"] for m in smtp.messages)
    assert len(received) == 10
    assert max(received.values()) == 1, "a message went out twice"
    db.session.expire_all()
    assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {"sent"}
    attempts = db.session.scalars(select(OutboxAttempt)).all()
    assert sorted(a.outcome for a in attempts) == ["sent"] * 10
    assert len({a.worker for a in attempts}) == 2, "the second worker took over the waiting ones"


def test_a_send_cut_off_by_a_crash_shows_on_the_outbox_page(app, db, make, hr, smtp, client, login):
    class Killed(BaseException):
        """What a SIGKILL mid-send looks like from the database: nothing after this runs."""

    class DyingMailer:
        def send(self, message):
            raise Killed

    enrolment.enrol(
        db.session, employee=make.employee(), course_session=make.course_session(), actor=hr
    )
    db.session.commit()
    try:
        delivery.deliver_pending(db.session, mailer=DyingMailer())
    except Killed:
        db.session.rollback()
    # The lease runs out; the next sweep takes the message over and sends it.
    lease_over = utcnow() - delivery.CLAIM_LEASE - timedelta(minutes=1)
    db.session.execute(update(OutboxMessage).values(claimed_at=lease_over))
    db.session.commit()
    delivery.deliver_pending(db.session)

    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.status == "sent" and message.attempts == 2
    cut_off, finished = db.session.scalars(select(OutboxAttempt).order_by(OutboxAttempt.id))
    assert (cut_off.finished_at, cut_off.outcome) == (None, None)
    assert finished.outcome == "sent"

    login("hr@stadt.example")
    page = client.get("/notifications/outbox?status=sent").get_data(as_text=True)
    assert "1 abgebrochen" in page

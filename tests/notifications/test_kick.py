"""A committed booking is delivered right away: in-process by default, by a worker on Redis."""

import time

from sqlalchemy import select

from app.core.models import OutboxMessage
from tests.conftest import csrf_token


def test_booking_mail_goes_out_after_the_request(
    app, client, login, make, staff_user, monkeypatch, celery_worker, db, tmp_path
):
    monkeypatch.setitem(app.config, "OUTBOX_KICK_ON_COMMIT", True)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path))
    course_session = make.course_session()
    login("erika@stadt.example")
    path = f"/courses/sessions/{course_session.id}"
    response = client.post(f"{path}/enrol", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        db.session.expire_all()
        status = db.session.scalar(select(OutboxMessage.status))
        db.session.commit()
        if status == "sent":
            break
        time.sleep(0.2)
    assert status == "sent"
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1
    from email import message_from_bytes, policy

    mail = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert mail["Subject"].startswith("Anmeldung bestätigt")

"""Answers stored for idempotent API calls are deleted after the configured days, nightly."""

from datetime import timedelta

from sqlalchemy import select

from app.api import services
from app.api.models import IdempotentRequest
from app.api.tasks import forget_old_answers
from app.core.types import utcnow


def test_answers_older_than_the_setting_are_forgotten_and_a_second_run_changes_nothing(
    app, db, celery_worker
):
    client, _token = services.create_client(
        db.session, name="HR-System", scopes=["staff:write"], created_by="test"
    )
    db.session.commit()
    now = utcnow()
    for key, age in (("old", 8), ("edge", 6), ("new", 0)):
        db.session.add(
            IdempotentRequest(
                client_id=client.id,
                key=key,
                request_hash="0" * 64,
                status_code=200,
                response_body="{}",
                created_at=now - timedelta(days=age),
            )
        )
    db.session.commit()
    assert app.config["API_IDEMPOTENCY_RETENTION_DAYS"] == 7

    assert forget_old_answers.delay().get(timeout=30) == 1
    assert forget_old_answers.delay().get(timeout=30) == 0
    db.session.expire_all()
    assert sorted(db.session.scalars(select(IdempotentRequest.key))) == ["edge", "new"]

"""The Celery wiring: a real task runs in an app context, in-process or on a real worker."""

from sqlalchemy import select

from app.core.models import WorkerHeartbeat
from app.core.tasks import record_heartbeat


def test_heartbeat_task_runs_and_is_idempotent(app, celery_worker, db):
    """With TEST_REDIS_URL the task goes through Redis to a worker; otherwise it runs in-process."""
    assert record_heartbeat.delay("node-a").get(timeout=30) == 1
    assert record_heartbeat.delay("node-a").get(timeout=30) == 2
    db.session.expire_all()
    rows = db.session.scalars(select(WorkerHeartbeat)).all()
    assert [(row.hostname, row.runs) for row in rows] == [("node-a", 2)]


def test_tasks_run_on_the_configured_broker(app, celery_worker):
    celery_app = app.extensions["celery"]
    if app.config.get("REDIS_URL"):
        assert celery_worker is not None
        assert celery_app.conf.task_always_eager is False
        assert celery_app.conf.broker_url.startswith("redis://")
        assert celery_app.conf.broker_transport_options["visibility_timeout"] >= 3600
    else:
        assert celery_app.conf.task_always_eager is True
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True
    assert celery_app.conf.worker_prefetch_multiplier == 1


def test_status_page_shows_the_worker(client, make, login, celery_worker):
    from app.core.roles import Role

    record_heartbeat.delay("worker-7").get(timeout=30)
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    page = client.get("/status").get_data(as_text=True)
    assert "worker-7" in page

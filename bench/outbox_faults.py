"""Fault scenarios of the outbox on the real stack: PostgreSQL, Redis, a Celery worker, SMTP.

Runs four scenarios and prints what arrived at a local SMTP server:
1. the same reminder written twice            -> one mail
2. SMTP down, then up again                   -> delivered once
3. a worker killed with SIGKILL mid-batch     -> after a restart all arrive, none twice
4. Redis stopped while employees enrol        -> no error for anyone; all arrive afterwards

It starts its own Redis (port 6390) so stopping it disturbs nothing else, and uses a database
it may drop (``FAULTS_DATABASE_URL``, default ``schulung_faults`` on localhost).

    .venv/bin/python bench/outbox_faults.py [--batch 1000]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, recreate_database  # noqa: E402

REDIS_PORT = 6390


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "FAULTS_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/schulung_faults"
        ),
    )
    args = parser.parse_args()
    smtp_port = free_port()
    os.environ.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        SECRET_KEY="faults-secret",
        OUTBOX_CLAIM_LEASE_SECONDS="5",
        LOGIN_RATE_LIMIT="100000 per minute",
        LOGIN_RATE_LIMIT_PER_ADDRESS="100000 per minute",
    )
    recreate_database(args.database_url)
    redis = start_redis()
    sink = Sink(smtp_port)
    sink.start()
    worker = start_worker()
    results = {}
    try:
        from app import create_app

        app = create_app()
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        world = World(app)
        results["same_reminder_twice"] = scenario_same_reminder_twice(world, sink)
        results["smtp_down_then_up"] = scenario_smtp_down(world, sink)
        worker, results["worker_killed"] = scenario_worker_killed(world, sink, worker, args.batch)
        redis, results["redis_down"] = scenario_redis_down(world, sink, redis)
    finally:
        stop(worker)
        sink.stop()
        stop(redis)
    print(json.dumps(results, indent=2))
    if not all(result["ok"] for result in results.values()):
        sys.exit(1)


# --- scenarios ---------------------------------------------------------------------------------


def scenario_same_reminder_twice(world, sink) -> dict:
    enrolment_id = world.booked_enrolments(1)[0]
    with world.app.app_context():
        from app.core.models import MessageKind
        from app.core.outbox import enqueue
        from app.extensions import db

        for _ in range(2):
            enqueue(
                db.session,
                key=f"reminder:7d:enrolment:{enrolment_id}",
                kind=MessageKind.SESSION_REMINDER,
                payload=world.payload(enrolment_id, days=7),
            )
            db.session.commit()
    before = sink.count()
    world.deliver()
    world.deliver()
    world.wait_until_all_sent()
    arrived = sink.count() - before
    return {"ok": arrived == 1, "mails": arrived}


def scenario_smtp_down(world, sink) -> dict:
    sink.stop()
    (enrolment_id,) = world.booked_enrolments(1)
    key = world.queue(enrolment_id, "booked")
    world.deliver()
    status, attempts = world.wait_for_attempt(key)
    sink.start()
    world.make_due(key)  # the backoff pause (1 minute) is skipped, not the retry
    before = sink.count()
    world.deliver()
    world.wait_until_all_sent()
    world.deliver()
    time.sleep(1)
    arrived = sink.count() - before
    return {
        "ok": status == "queued" and attempts == 1 and arrived == 1,
        "status_while_down": status,
        "attempts_while_down": attempts,
        "mails_after_up": arrived,
    }


def scenario_worker_killed(world, sink, worker, batch: int):
    enrolments = world.booked_enrolments(batch)
    keys = [world.queue(e, "booked", commit=False) for e in enrolments]
    world.commit()
    sink.delay = 0.004  # slow enough to kill the worker in the middle of the batch
    before = sink.count()
    start_ids = set(sink.ids)
    world.deliver()
    wait(lambda: sink.count() - before >= batch // 3, 120, "a third of the batch")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    at_kill = sink.count() - before
    worker = start_worker()
    time.sleep(6)  # the dead worker's claim is older than the 5 s lease now
    world.deliver()
    world.wait_until_all_sent(timeout=300)
    sink.delay = 0
    new_ids = [i for i in sink.ids_in_order[len(start_ids) :]]
    counts = collections.Counter(new_ids)
    wanted = {world.message_id(key) for key in keys}
    arrived = wanted & set(counts)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    return worker, {
        "ok": len(arrived) == batch and duplicates <= 1,
        "batch": batch,
        "arrived_before_kill": at_kill,
        "arrived_distinct": len(arrived),
        "duplicates": duplicates,
        "note": "a duplicate is possible only for the one message in flight at the kill; "
        "it carries the same Message-ID",
    }


def scenario_redis_down(world, sink, redis):
    people = world.users(20)
    session_id = world.new_session()
    stop(redis)
    client_app = world.app
    client_app.config["OUTBOX_KICK_ON_COMMIT"] = True
    statuses, latencies = [], []
    before = sink.count()
    for email in people:
        client = client_app.test_client()
        token = form_token(client, "/auth/login")
        client.post(
            "/auth/login",
            data={"email": email, "password": "faults-password-1", "csrf_token": token},
        )
        page = f"/courses/sessions/{session_id}"
        token = form_token(client, page)
        began = time.perf_counter()
        response = client.post(f"{page}/enrol", data={"csrf_token": token})
        latencies.append(time.perf_counter() - began)
        statuses.append(response.status_code)
    queued_while_down = world.count_status("queued")
    redis = start_redis()
    world.deliver()  # what the beat sweep does every minute
    world.wait_until_all_sent()
    arrived = sink.count() - before
    return redis, {
        "ok": statuses == [302] * len(people) and arrived == len(people),
        "requests": len(statuses),
        "errors": sum(1 for s in statuses if s != 302),
        "slowest_request_ms": round(max(latencies) * 1000),
        "queued_while_redis_down": queued_while_down,
        "mails_after_redis_back": arrived,
    }


# --- the world the scenarios act on -------------------------------------------------------------


class World:
    def __init__(self, app):
        self.app = app
        self.counter = 0
        with app.app_context():
            from app.core.types import utcnow
            from app.courses.models import Course, CourseSession
            from app.extensions import db
            from app.staff.services import create_department

            self.department_id = create_department(db.session, code="F", name="Fehlerfälle").id
            course = Course(code="F", title="Interkulturelle Kompetenz (Fehlerfälle)")
            start = utcnow() + timedelta(days=20)
            session = CourseSession(
                course=course, starts_at=start, ends_at=start + timedelta(hours=3), capacity=100000
            )
            db.session.add_all([course, session])
            db.session.commit()
            self.course_id, self.session_id = course.id, session.id
        self.pending = []

    def booked_enrolments(self, count: int) -> list[int]:
        with self.app.app_context():
            from app.courses.models import Enrolment
            from app.extensions import db
            from app.staff.models import Employee

            employees = []
            for _ in range(count):
                self.counter += 1
                employees.append(
                    Employee(
                        personnel_number=f"F{self.counter:06d}",
                        first_name="Ümit",
                        last_name=f"Größe {self.counter}",
                        email=f"f{self.counter}@stadt.example",
                        department_id=self.department_id,
                    )
                )
            db.session.add_all(employees)
            db.session.flush()
            enrolments = [
                Enrolment(session_id=self.session_id, employee_id=e.id, status="booked")
                for e in employees
            ]
            db.session.add_all(enrolments)
            db.session.commit()
            return [e.id for e in enrolments]

    def users(self, count: int) -> list[str]:
        from werkzeug.security import generate_password_hash

        password_hash = generate_password_hash("faults-password-1")
        with self.app.app_context():
            from app.auth.models import User, UserRole
            from app.extensions import db
            from app.staff.models import Employee

            emails = []
            for _ in range(count):
                self.counter += 1
                employee = Employee(
                    personnel_number=f"F{self.counter:06d}",
                    first_name="Ada",
                    last_name=f"Test {self.counter}",
                    email=f"f{self.counter}@stadt.example",
                    department_id=self.department_id,
                )
                user = User(
                    email=f"login{self.counter}@stadt.example",
                    password_hash=password_hash,
                    employee=employee,
                )
                user.role_rows.append(UserRole(role="employee"))
                db.session.add(user)
                emails.append(user.email)
            db.session.commit()
            return emails

    def new_session(self) -> int:
        with self.app.app_context():
            from app.core.types import utcnow
            from app.courses.models import CourseSession
            from app.extensions import db

            start = utcnow() + timedelta(days=30)
            session = CourseSession(
                course_id=self.course_id,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                capacity=100,
            )
            db.session.add(session)
            db.session.commit()
            return session.id

    def payload(self, enrolment_id: int, **extra) -> dict:
        with self.app.app_context():
            from app.courses.models import Enrolment
            from app.extensions import db

            enrolment = db.session.get(Enrolment, enrolment_id)
            return {
                "enrolment_id": enrolment.id,
                "employee_id": enrolment.employee_id,
                "session_id": enrolment.session_id,
                **extra,
            }

    def queue(self, enrolment_id: int, kind: str, commit: bool = True) -> str:
        key = f"faults:{kind}:{enrolment_id}"
        self.pending.append((key, kind, enrolment_id))
        if commit:
            self.commit()
        return key

    def commit(self) -> None:
        with self.app.app_context():
            from app.core.models import OutboxMessage
            from app.courses.models import Enrolment
            from app.extensions import db

            enrolments = {
                e.id: e
                for e in db.session.scalars(
                    db.select(Enrolment).where(Enrolment.id.in_([p[2] for p in self.pending]))
                )
            }
            db.session.add_all(
                [
                    OutboxMessage(
                        key=key,
                        kind=kind,
                        payload={
                            "enrolment_id": eid,
                            "employee_id": enrolments[eid].employee_id,
                            "session_id": enrolments[eid].session_id,
                        },
                    )
                    for key, kind, eid in self.pending
                ]
            )
            db.session.commit()
        self.pending = []

    def deliver(self) -> None:
        with self.app.app_context():
            from app.notifications.tasks import deliver_outbox

            deliver_outbox.delay()

    def make_due(self, key: str) -> None:
        with self.app.app_context():
            from app.core.models import OutboxMessage
            from app.core.types import utcnow
            from app.extensions import db

            db.session.execute(
                db.update(OutboxMessage)
                .where(OutboxMessage.key == key)
                .values(next_attempt_at=utcnow())
            )
            db.session.commit()

    def wait_for_attempt(self, key: str):
        def attempted():
            with self.app.app_context():
                from app.core.models import OutboxMessage
                from app.extensions import db

                row = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.key == key))
                return (row.status, row.attempts) if row.attempts else None

        return wait(attempted, 60, "a failed attempt")

    def count_status(self, status: str) -> int:
        with self.app.app_context():
            from app.core.models import OutboxMessage
            from app.extensions import db

            return db.session.scalar(
                db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.status == status)
            )

    def wait_until_all_sent(self, timeout: float = 120) -> None:
        wait(
            lambda: self.count_status("queued") + self.count_status("sending") == 0,
            timeout,
            "an empty outbox",
        )

    def message_id(self, key: str) -> str:
        return f"<{key.replace(':', '.')}@{self.app.config['CALENDAR_UID_DOMAIN']}>"


# --- processes and servers ----------------------------------------------------------------------


class Sink:
    """A local SMTP server that records every Message-ID it accepts."""

    def __init__(self, port: int):
        self.port = port
        self.ids_in_order: list[str] = []
        self.delay = 0.0
        self.controller = None

    @property
    def ids(self):
        return self.ids_in_order

    def count(self) -> int:
        return len(self.ids_in_order)

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        match = re.search(rb"^Message-ID: (<[^>]+>)", envelope.content, re.M | re.I)
        self.ids_in_order.append(match.group(1).decode() if match else "")
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def start_redis() -> subprocess.Popen:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    wait(lambda: port_open(REDIS_PORT), 10, "Redis")
    return process


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "worker",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def form_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"waited {timeout} s for {what}")


if __name__ == "__main__":
    main()

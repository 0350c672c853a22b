"""Delivery throughput: 10,000 messages through the outbox to a local SMTP sink, beside a bare
``smtplib`` loop building and sending the same messages over one connection.

    .venv/bin/python bench/delivery.py [--messages 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, recreate_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/schulung_bench"
        ),
    )
    args = parser.parse_args()
    port = free_port()
    os.environ.update(
        DATABASE_URL=args.database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(port),
        SECRET_KEY="bench",
    )
    os.environ.pop("REDIS_URL", None)
    recreate_database(args.database_url)
    # The sink runs in its own process, as a mail server would, not competing for our GIL.
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-c",
            "aiosmtpd.handlers.Sink",
            "-l",
            f"127.0.0.1:{port}",
        ]
    )
    try:
        time.sleep(1.5)
        results = run(args.messages, port)
    finally:
        sink.terminate()
        sink.wait()
    print(json.dumps(results, indent=2))


def run(count: int, port: int) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from app.core.models import OutboxMessage
    from app.core.types import utcnow
    from app.courses.models import Course, CourseSession, Enrolment
    from app.extensions import db
    from app.notifications.delivery import deliver_pending, mail_settings
    from app.notifications.messages import build_message
    from app.staff.models import Employee
    from app.staff.services import create_department

    app = create_app()
    with app.app_context():
        upgrade()
        department = create_department(db.session, code="B", name="Benchmark")
        course = Course(code="B", title="Interkulturelle Kompetenz im Bürgerservice")
        start = utcnow() + timedelta(days=20)
        session = CourseSession(
            course=course, starts_at=start, ends_at=start + timedelta(hours=3), capacity=count
        )
        db.session.add_all([course, session])
        employees = [
            Employee(
                personnel_number=f"B{n:06d}",
                first_name="Özlem",
                last_name=f"Müller {n}",
                email=f"b{n}@stadt.example",
                department=department,
            )
            for n in range(count)
        ]
        db.session.add_all(employees)
        db.session.flush()
        enrolments = [
            Enrolment(session_id=session.id, employee_id=e.id, status="booked") for e in employees
        ]
        db.session.add_all(enrolments)
        db.session.flush()
        db.session.add_all(
            [
                OutboxMessage(
                    key=f"bench:{e.id}",
                    kind="booked",
                    payload={
                        "enrolment_id": e.id,
                        "employee_id": e.employee_id,
                        "session_id": session.id,
                    },
                )
                for e in enrolments
            ]
        )
        db.session.commit()

        # The bare loop: the same messages over one SMTP connection, built as it goes (any
        # sender must build them) and, for reference, sent once more already built.
        settings = mail_settings()
        rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        began = time.perf_counter()
        built = []
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for row in rows:
                message = build_message(db.session, row, settings)
                smtp.send_message(message)
                built.append(message)
        bare = time.perf_counter() - began
        began = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for message in built:
                smtp.send_message(message)
        send_only = time.perf_counter() - began
        db.session.rollback()

        began = time.perf_counter()
        report = deliver_pending(db.session)
        outbox = time.perf_counter() - began
        sent = db.session.scalar(
            db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.status == "sent")
        )
    return {
        "messages": count,
        "bare_smtplib_seconds": round(bare, 2),
        "bare_per_second": round(count / bare),
        "prebuilt_send_only_per_second": round(count / send_only),
        "outbox_seconds": round(outbox, 2),
        "outbox_per_second": round(count / outbox),
        "outbox_vs_bare": round((count / outbox) / (count / bare), 2),
        "sent": sent,
        "report": {"sent": report.sent, "failed": report.failed},
    }


if __name__ == "__main__":
    main()

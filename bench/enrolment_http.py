"""Enrolment benchmark: many people enrol into one popular session at once, over real HTTP.

Starts gunicorn on a fresh PostgreSQL database, logs every virtual user in (not timed), then
lets them all press "Anmelden" at the same moment and measures each request. Counts
overbookings afterwards (must be 0): booked enrolments above capacity, or seats_taken off.

    .venv/bin/python bench/enrolment_http.py --users 400 --capacity 50 --concurrency 50
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Client,
    add_logins,
    latency_summary,
    login_all,
    recreate_database,
    wait_for,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--capacity", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/schulung_bench"
        ),
    )
    parser.add_argument("--json", help="write the results to this file too")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url  # before config.py is imported
    os.environ.pop("REDIS_URL", None)

    session_id = prepare_database(args.database_url, args.users, args.capacity)
    server = start_gunicorn(args)
    try:
        wait_for(args.port)
        clients = login_all(args.port, args.users, args.concurrency)
        results = enrol_all(args.port, clients, session_id, args.concurrency)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    results.update(check_database(args.database_url, session_id, args.capacity, args.users))
    results.update(
        users=args.users,
        capacity=args.capacity,
        concurrency=args.concurrency,
        gunicorn_workers=args.workers,
    )
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if results["overbooked"] or results["errors"]:
        sys.exit(1)


def prepare_database(url: str, users: int, capacity: int) -> int:
    """A fresh database with one course session and ``users`` logins on staff."""
    recreate_database(url)

    from flask_migrate import upgrade

    from app import create_app
    from app.core.types import utcnow
    from app.courses.models import Course, CourseSession
    from app.extensions import db
    from app.staff.services import create_department

    app = create_app()
    with app.app_context():
        upgrade()
        department = create_department(db.session, code="BENCH", name="Benchmark-Amt")
        course = Course(code="BENCH", title="Interkulturelle Kompetenz (Benchmark)")
        start = utcnow() + timedelta(days=14)
        course_session = CourseSession(
            course=course, starts_at=start, ends_at=start + timedelta(hours=3), capacity=capacity
        )
        db.session.add_all([course, course_session])
        add_logins(db.session, department, users)
        db.session.commit()
        return course_session.id


def start_gunicorn(args) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": "bench-secret",
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "LOGIN_RATE_LIMIT_PER_ADDRESS": "100000 per minute",
    }
    env.pop("REDIS_URL", None)
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )


def enrol_all(port: int, clients: list[Client], session_id: int, concurrency: int) -> dict:
    page = f"/courses/sessions/{session_id}"
    tokens = [client.token(page) for client in clients]
    start_gate = threading.Barrier(min(concurrency, len(clients)))
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def enrol(index: int) -> None:
        if index < concurrency:
            start_gate.wait()
        began = time.perf_counter()
        status, _ = clients[index].request("POST", f"{page}/enrol", {"csrf_token": tokens[index]})
        elapsed = time.perf_counter() - began
        with lock:
            latencies.append(elapsed)
            statuses.append(status)

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(enrol, range(len(clients))))
    wall = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "errors": sum(1 for s in statuses if s != 302),
        "wall_seconds": round(wall, 3),
        "throughput_per_second": round(len(latencies) / wall, 1),
        **latency_summary(latencies),
    }


def check_database(url: str, session_id: int, capacity: int, users: int) -> dict:
    from sqlalchemy import func, select

    from app import create_app
    from app.courses.models import CourseSession, Enrolment
    from app.extensions import db

    with create_app().app_context():
        counts = dict(
            db.session.execute(
                select(Enrolment.status, func.count(Enrolment.id))
                .where(Enrolment.session_id == session_id)
                .group_by(Enrolment.status)
            ).all()
        )
        seats_taken = db.session.execute(
            select(CourseSession.seats_taken).where(CourseSession.id == session_id)
        ).scalar_one()
    booked = counts.get("booked", 0)
    return {
        "booked": booked,
        "waitlisted": counts.get("waitlisted", 0),
        "seats_taken": seats_taken,
        "overbooked": max(0, booked - capacity) + abs(seats_taken - booked),
        "all_enrolled": booked + counts.get("waitlisted", 0) == users,
    }


if __name__ == "__main__":
    main()

"""Enrolment benchmark: many people enrol into one popular session at once, over real HTTP.

Starts gunicorn on a fresh PostgreSQL database, logs every virtual user in (not timed), then
lets them all press "Anmelden" at the same moment and measures each request. Counts
overbookings afterwards (must be 0): booked enrolments above capacity, or seats_taken off.

    .venv/bin/python bench/enrolment_http.py --users 400 --capacity 50 --concurrency 50
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "bench-password-123"


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
    from bench.common import recreate_database

    recreate_database(url)

    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.auth.models import User, UserRole
    from app.core.roles import Role
    from app.core.types import utcnow
    from app.courses.models import Course, CourseSession
    from app.extensions import db
    from app.staff.models import Employee
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
        password_hash = generate_password_hash(PASSWORD)  # one hash: the same password for all
        for n in range(users):
            employee = Employee(
                personnel_number=f"B{n:06d}",
                first_name="Bench",
                last_name=f"Person {n}",
                department=department,
            )
            user = User(
                email=f"bench{n}@stadt.example", password_hash=password_hash, employee=employee
            )
            user.role_rows.append(UserRole(role=Role.EMPLOYEE.value))
            db.session.add_all([employee, user])
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


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


class Client:
    """One browser: keeps its session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            from urllib.parse import urlencode

            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        connection.close()
        return response.status, text

    def token(self, path: str) -> str:
        status, text = self.request("GET", path)
        return TOKEN.search(text).group(1)


def login_all(port: int, users: int, concurrency: int) -> list[Client]:
    def login(n: int) -> Client:
        client = Client(port)
        token = client.token("/auth/login")
        status, _ = client.request(
            "POST",
            "/auth/login",
            {"email": f"bench{n}@stadt.example", "password": PASSWORD, "csrf_token": token},
        )
        assert status == 302, f"login {n} answered {status}"
        return client

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(login, range(users)))


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
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": sum(1 for s in statuses if s != 302),
        "wall_seconds": round(wall, 3),
        "throughput_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
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
        seats_taken = db.session.get(CourseSession, session_id).seats_taken
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

"""Pages under load: wrk against gunicorn, each page beside a trivial endpoint in the same run.

Uses the benchmark city of ``bench/city.py`` (generated if missing), adds what the pages need
and the city has not (upcoming dates of every course, one date with many participants, a login
for an employee and one for the head of a Fachbereich of median size, today's coverage counts),
starts gunicorn (``--workers`` sync workers) serving ``bench.wsgi_bench:app``, logs in as a
browser does, and then alternates rounds: ``/bench/ping`` (no database, no session), then each
page, ``--rounds`` times, with wrk holding ``--connections`` connections with the session cookie.

    .venv/bin/python bench/pages.py --staff 50000 --rounds 3 --duration 10

Prints one JSON object: per page the median over rounds of requests/s, p50 and p99 latency,
the ping's in the same rounds, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.city import default_url  # noqa: E402
from bench.common import BENCH_PASSWORD_METHOD, PASSWORD, Client, free_port, wait_for  # noqa: E402

EMPLOYEE_LOGIN = "bench-employee@stadt.example"
HEAD_LOGIN = "bench-head@stadt.example"
#: Participants of the date whose page is measured.
PARTICIPANTS = 150


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=50_000)
    parser.add_argument("--completions-per-person", type=int, default=20)
    parser.add_argument("--database-url", help="default: schulung_bench_<staff/1000>k")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", action="append", help="measure only these page names")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/13",
        help="the page cache's Redis database (flushed first); '' for none",
    )
    args = parser.parse_args()
    url = args.database_url or default_url(args.staff)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "city.py"),
            "--staff",
            str(args.staff),
            "--completions-per-person",
            str(args.completions_per_person),
            "--database-url",
            url,
        ],
        check=True,
        stdout=2,
    )
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    date_id = prepare(url)
    if args.redis_url:  # as a city of this size runs: page parts kept in Redis
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    port = free_port()
    server = start_gunicorn(url, port, args.workers, args.redis_url)
    try:
        wait_for(port)
        employee, head = Client(port), Client(port)
        log_in(employee, EMPLOYEE_LOGIN)
        log_in(head, HEAD_LOGIN)
        pages = {
            "employee start page": (employee, "/"),
            "Meine Schulungen": (employee, "/courses/mine"),
            "catalogue": (employee, "/courses/"),
            "date page": (employee, f"/courses/sessions/{date_id}"),
            "head's coverage page": (head, "/reports/coverage"),
        }
        if args.only:
            pages = {name: page for name, page in pages.items() if name in args.only}
        for client, path in pages.values():  # warm every worker's caches and the database's
            status, _ = client.request("GET", path)
            assert status == 200, f"{path} answered {status}"
        results = measure(port, pages, args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        json.dumps(
            {
                "staff": args.staff,
                "workers": args.workers,
                "connections": args.connections,
                "duration_s": args.duration,
                "rounds": args.rounds,
                "page_cache": bool(args.redis_url),
                "cores": os.cpu_count(),
                "pages": results,
            },
            indent=2,
        )
    )


def prepare(url: str) -> int:
    """Dates, logins and today's counts; idempotent. Returns the measured date's id."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.auth.models import User, UserRole
    from app.core.clock import local_today
    from app.core.roles import Role
    from app.core.types import utcnow
    from app.courses.models import Course, CourseSession, Enrolment, EnrolmentStatus
    from app.extensions import db
    from app.requirements import counts
    from app.staff.models import Department, Employee

    app = create_app()
    with app.app_context():
        upgrade()
        session = db.session
        if not session.scalar(select(func.count()).select_from(CourseSession)):
            start = utcnow().replace(minute=0, second=0, microsecond=0)
            for course in session.scalars(select(Course).order_by(Course.id)):
                for week in range(1, 13, 2):
                    starts = start + timedelta(days=7 * week + course.id % 5)
                    session.add(
                        CourseSession(
                            course=course,
                            starts_at=starts,
                            ends_at=starts + timedelta(hours=3),
                            capacity=PARTICIPANTS + 50,
                            location="Rathaus, Raum 101",
                        )
                    )
            session.commit()
        measured = session.scalars(select(CourseSession).order_by(CourseSession.id)).first()
        if not measured.seats_taken:
            people = session.scalars(
                select(Employee.id).where(Employee.active).order_by(Employee.id).limit(PARTICIPANTS)
            ).all()
            for employee_id in people:
                session.add(
                    Enrolment(
                        session_id=measured.id,
                        employee_id=employee_id,
                        status=EnrolmentStatus.BOOKED.value,
                    )
                )
            measured.seats_taken = len(people)
            session.commit()
        password_hash = generate_password_hash(PASSWORD, method=BENCH_PASSWORD_METHOD)
        if session.scalar(select(User).where(User.email == EMPLOYEE_LOGIN)) is None:
            # A participant of the measured date: their pages show a booking.
            person = session.get(Employee, measured.enrolments[0].employee_id)
            user = User(email=EMPLOYEE_LOGIN, password_hash=password_hash, employee=person)
            user.role_rows.append(UserRole(role=Role.EMPLOYEE.value))
            session.add(user)
        if session.scalar(select(User).where(User.email == HEAD_LOGIN)) is None:
            middles = session.scalars(
                select(Department).where(Department.depth == 1).order_by(Department.code)
            ).all()
            head = User(email=HEAD_LOGIN, password_hash=password_hash)
            head.role_rows.append(UserRole(role=Role.HEAD.value))
            head.headed_departments.append(middles[len(middles) // 2])
            session.add(head)
        session.commit()
        counts.build(session, day=local_today(), due_soon_days=app.config["DUE_SOON_DAYS"])
        session.commit()
        # What a city's autovacuum does after such changes (a machine's PostgreSQL may have it
        # off): without it the planner takes the dates table for empty, and the start page's
        # query for the next dates costs 1.0-1.6 ms on the server instead of 0.3 ms.
        session.execute(
            text(
                "ANALYZE course_sessions, enrolments, users, user_roles, coverage_counts,"
                " coverage_count_days"
            )
        )
        session.commit()
        return measured.id


def measured_date(url: str) -> int:
    """The id of the date ``prepare`` filled with participants."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT min(id) FROM course_sessions")).scalar_one()
    engine.dispose()
    if found is None:
        raise SystemExit("no dates yet: run bench/pages.py once, or pass --prepare")
    return found


def start_gunicorn(
    url: str, port: int, workers: int, redis_url: str | None = None
) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret"}
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.wsgi_bench:app",
        ],
        cwd=ROOT,
        env=env,
    )


def log_in(client: Client, email: str) -> None:
    token = client.token("/auth/login")
    status, _ = client.request(
        "POST", "/auth/login", {"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert status == 302, f"login of {email} answered {status}"


def measure(port: int, pages: dict, args) -> dict:
    runs: dict[str, list[dict]] = {name: [] for name in pages}
    pings: dict[str, list[dict]] = {name: [] for name in pages}
    for _ in range(args.rounds):
        for name, (client, path) in pages.items():
            pings[name].append(wrk(port, "/bench/ping", "", args))
            runs[name].append(wrk(port, path, client.cookie, args))
    out = {}
    for name, (_client, path) in pages.items():
        page, ping = _median(runs[name]), _median(pings[name])
        out[name] = {
            "path": path,
            **page,
            "ping_requests_per_s": ping["requests_per_s"],
            "ratio": round(page["requests_per_s"] / ping["requests_per_s"], 4),
        }
    return out


LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def wrk(port: int, path: str, cookie: str, args) -> dict:
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={args.duration}s",
        "--latency",
    ]
    if cookie:
        command += ["--header", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], check=True, capture_output=True, text=True
    ).stdout
    errors = ERRORS.search(output)
    if errors:
        raise RuntimeError(f"{path}: {errors.group(1)} answers were not 2xx\n{output}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {p: float(v) * scale[u] for p, v, u in LATENCY.findall(output)}
    return {
        "requests_per_s": float(RATE.search(output).group(1)),
        "p50_ms": round(latency["50"], 1),
        "p99_ms": round(latency["99"], 1),
    }


def _median(runs: list[dict]) -> dict:
    return {key: round(statistics.median(run[key] for run in runs), 1) for key in runs[0]}


if __name__ == "__main__":
    main()

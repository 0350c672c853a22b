"""Bytes and CPU time of one request of HR's and the head's large pages, in-process.

Seeds the demo city into a fresh database (on PostgreSQL its schema is dropped first: give
it a scratch database), adds what makes these pages large at city scale (a Fachbereich with
300 Abteilungen of two people each under the demo head's unit, an upcoming date with 300
participants and a past one with 300 seats to record), and requests each page with Flask's
test client: the size of the answer and the median CPU time (and wall time) of ``--rounds``
requests after one warm-up. No server, no load: what one request costs.

    .venv/bin/python bench/page_sizes.py [--database-url postgresql://…] [--rounds 5]

Without ``--database-url`` a SQLite file in a temporary folder. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Participants of the measured dates, and Abteilungen of the large Fachbereich.
PARTICIPANTS = 300
DEPARTMENTS = 300
PEOPLE_PER_DEPARTMENT = 2
BIG_UNIT = "D3-KB-GROSS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/pages.db"
        os.environ["DATABASE_URL"] = url
        os.environ.pop("REDIS_URL", None)
        os.environ.setdefault("SECRET_KEY", "bench-secret")
        print(json.dumps(measure(url, args.rounds), indent=2))


def measure(url: str, rounds: int) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        city = build_city(db.session)
    pages = {
        "HR: date page (300 participants)": ("hr", f"/courses/sessions/{city['upcoming']}"),
        "HR: attendance (300 seats)": ("hr", f"/courses/sessions/{city['past']}/attendance"),
        "HR: booking, a unit of 600 people": (
            "hr",
            f"/courses/sessions/{city['upcoming']}/book?department={BIG_UNIT}",
        ),
        "head: date page (own staff)": ("head", f"/courses/sessions/{city['upcoming']}"),
        "head: coverage of a unit with 300 departments": (
            "head",
            f"/reports/coverage?department={BIG_UNIT}",
        ),
        "head: coverage of their area": ("head", "/reports/coverage"),
        "head: people overdue or due soon": ("head", f"/reports/people?department={BIG_UNIT}"),
        "head: department page": ("head", f"/staff/departments/{BIG_UNIT}"),
        "head: department tree": ("head", "/staff/departments"),
    }
    clients = {who: log_in(app, email) for who, email in city["logins"].items()}
    results = {}
    for name, (who, path) in pages.items():
        client = clients[who]
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        cpu, wall = [], []
        for _ in range(rounds):
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            response = client.get(path)
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started_wall)
        body = response.get_data()
        results[name] = {
            "path": path,
            "bytes": len(body),
            # Table rows and ticked boxes (the people to book are a list).
            "rows": body.count(b"<tr") + body.count(b'<li><input type="checkbox"'),
            "cpu_ms": round(1000 * statistics.median(cpu), 1),
            "wall_ms": round(1000 * statistics.median(wall), 1),
        }
    return {"database": url.split(":", 1)[0], "rounds": rounds, "pages": results}


def build_city(db_session) -> dict:
    """The demo city, a Fachbereich of 300 Abteilungen, and two dates of 300 people each."""
    from sqlalchemy import select

    from app.core.clock import local_today
    from app.core.types import utcnow
    from app.courses.models import Course, CourseSession, Enrolment, EnrolmentStatus
    from app.demo import seed_demo_city
    from app.demo.logins import DEMO_PEOPLE
    from app.requirements import counts
    from app.staff.models import Department, Employee
    from app.staff.services import create_department

    today = local_today()
    seed_demo_city(db_session, today=today)
    head = DEMO_PEOPLE[1]  # the head of D3-KB
    unit = db_session.scalars(select(Department).where(Department.code == head.heads[0])).one()
    big = create_department(
        db_session, code=BIG_UNIT, name="Fachbereich Kindertagesstätten", parent=unit
    )
    for n in range(DEPARTMENTS):
        child = create_department(
            db_session, code=f"{BIG_UNIT}-{n:03d}", name=f"Kita Nummer {n:03d}", parent=big
        )
        for k in range(PEOPLE_PER_DEPARTMENT):
            db_session.add(
                Employee(
                    personnel_number=f"K{n:03d}{k}",
                    first_name=f"Vorname{k}",
                    last_name=f"Erzieherin {n:03d}",
                    email=f"kita{n:03d}-{k}@stadt.example",
                    department=child,
                    active=True,
                    entry_date=date(2020, 1, 1),
                )
            )
    db_session.flush()
    course = db_session.scalars(select(Course).order_by(Course.id)).first()
    people = db_session.scalars(
        select(Employee.id).where(Employee.active.is_(True)).order_by(Employee.id.desc())
    ).all()
    dates = {}
    for name, days in (("upcoming", 10), ("past", -1)):
        starts = utcnow().replace(microsecond=0) + timedelta(days=days)
        course_session = CourseSession(
            course=course,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=PARTICIPANTS,
            seats_taken=PARTICIPANTS,
            location="Rathaus, Großer Saal",
        )
        db_session.add(course_session)
        db_session.flush()
        for employee_id in people[:PARTICIPANTS]:
            db_session.add(
                Enrolment(
                    session_id=course_session.id,
                    employee_id=employee_id,
                    status=EnrolmentStatus.BOOKED.value,
                )
            )
        dates[name] = course_session.id
    db_session.commit()
    counts.build(db_session, day=today, due_soon_days=30)
    db_session.commit()
    return {**dates, "logins": {"hr": DEMO_PEOPLE[0].email, "head": head.email}}


def log_in(app, email: str):
    from app.demo import DEMO_PASSWORD

    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post(
        "/auth/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.status_code
    return client


if __name__ == "__main__":
    main()

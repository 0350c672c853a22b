"""Invitation letters for a large department: ``--people`` staff without e-mail, each booked
on one of the upcoming dates (20 a date), printed as one PDF the way a head downloads it.

    .venv/bin/python bench/letters.py --people 2000

Runs against a temporary SQLite database (the query is one indexed join; the time is the PDF).
Prints one JSON object: letters, seconds, PDF size and the process's peak RSS before and after.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    args = parser.parse_args()

    from sqlalchemy import insert, select

    from app import create_app
    from app.core.clock import local_today
    from app.core.pdf import static_file
    from app.core.types import utcnow
    from app.courses.models import Course, CourseSession, Enrolment
    from app.extensions import db
    from app.notifications import letters
    from app.staff import services as staff_services
    from app.staff.models import Employee
    from config import TestConfig

    with tempfile.TemporaryDirectory() as folder:

        class BenchConfig(TestConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder}/letters.db"

        app = create_app(BenchConfig)
        with app.app_context(), app.test_request_context():
            db.create_all()
            yard = staff_services.create_department(db.session, code="BH", name="Betriebshof")
            course = Course(code="IKK", title="Interkulturelle Kompetenz im Bürgerservice")
            db.session.add(course)
            db.session.flush()
            start = utcnow() + timedelta(days=10)
            dates = [
                CourseSession(
                    course_id=course.id,
                    starts_at=start + timedelta(days=n),
                    ends_at=start + timedelta(days=n, hours=3),
                    capacity=20,
                    seats_taken=20,
                    location="Rathaus, Hugenottenallee 53",
                    notes="Raum 2.14, zweiter Stock; Bus 653 bis Rathaus",
                )
                for n in range((args.people + 19) // 20)
            ]
            db.session.add_all(dates)
            db.session.flush()
            db.session.execute(
                insert(Employee),
                [
                    {
                        "personnel_number": f"{n:06d}",
                        "first_name": "Jürgen",
                        "last_name": f"Özdemir-Kovačević {n}",
                        "email": None,
                        "department_id": yard.id,
                    }
                    for n in range(args.people)
                ],
            )
            ids = db.session.scalars(select(Employee.id).order_by(Employee.id)).all()
            db.session.execute(
                insert(Enrolment),
                [
                    {"session_id": dates[n // 20].id, "employee_id": i, "status": "booked"}
                    for n, i in enumerate(ids)
                ],
            )
            db.session.commit()
            settings = letters.LetterSettings(
                city_name="Stadt Neu-Isenburg",
                logo=static_file(app.config["CITY_LOGO"]),
                contact="Stabsstelle Integration, Tel. 06102 241-0",
                what_to_bring="",
            )
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            started = time.perf_counter()
            body = letters.invitation_letters_pdf(
                letters.invitations_for_department(db.session, yard, now=utcnow()),
                settings,
                today=local_today(),
            )
            seconds = time.perf_counter() - started
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "letters": args.people,
                "seconds": round(seconds, 1),
                "pdf_mb": round(len(body) / 1e6, 1),
                "peak_rss_mb_before": round(rss_before),
                "peak_rss_mb_after": round(rss_after),
            }
        )
    )


if __name__ == "__main__":
    main()

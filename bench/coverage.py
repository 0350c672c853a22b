"""Coverage at the size of a large city, on PostgreSQL.

Generates a city (default 50,000 employees, 1,000 departments, 50 requirements, 1,000,000
completions; ``--scale`` shrinks it), then times through the application code: the full city
report, one head's subtree report, one employee's page and a streamed CSV export of a subtree
(with its peak memory); and beside them hand-written SQL for the same city report, as a ratio.

    .venv/bin/python bench/coverage.py [--scale 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recreate_database  # noqa: E402

TODAY = date(2026, 11, 29)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse the generated city")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/schulung_bench"
        ),
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("REDIS_URL", None)
    from app import create_app

    sizes = {
        "employees": int(50_000 * args.scale),
        "departments": max(30, int(1_000 * args.scale)),
        "requirements": 50,
        "completions": int(1_000_000 * args.scale),
    }
    if not args.keep:
        recreate_database(args.database_url)
        app = create_app()
        began = time.perf_counter()
        generate(app, sizes)
        sizes["generate_seconds"] = round(time.perf_counter() - began, 1)
    app = create_app()
    results = {"sizes": sizes, **measure(app, args.repeat)}
    print(json.dumps(results, indent=2, default=str))


def generate(app, sizes: dict) -> None:
    """Fill the database with COPY: departments in 3 levels, staff, courses, rules, history."""
    from flask_migrate import upgrade

    from app.extensions import db

    rng = random.Random(7)
    with app.app_context():
        upgrade()
        raw = db.engine.raw_connection()
        cursor = raw.cursor()
        # Departments: 10 Dezernate, each with Fachbereiche, each with Abteilungen.
        per_level = max(2, round((sizes["departments"] / 10) ** 0.5))
        departments, next_id = [], 1
        for d in range(10):
            top = next_id
            next_id += 1
            departments.append((top, f"D{d}", f"Dezernat {d}", None, f"/{top}/", 0))
            for f in range(per_level):
                middle = next_id
                next_id += 1
                departments.append(
                    (middle, f"D{d}-F{f}", f"Fachbereich {d}.{f}", top, f"/{top}/{middle}/", 1)
                )
                for a in range(per_level - 1):
                    leaf = next_id
                    next_id += 1
                    departments.append(
                        (
                            leaf,
                            f"D{d}-F{f}-A{a}",
                            f"Abteilung {d}.{f}.{a}",
                            middle,
                            f"/{top}/{middle}/{leaf}/",
                            2,
                        )
                    )
        with cursor.copy(
            "COPY departments (id, code, name, parent_id, path, depth) FROM STDIN"
        ) as copy:
            for row in departments:
                copy.write_row(row)
        leaves = [d[0] for d in departments if d[5] == 2] or [d[0] for d in departments]
        positions = [
            "Sachbearbeiter/in",
            "Erzieher/in",
            "Amtsleitung",
            "Verwaltungsfachangestellte/r",
            "Feuerwehrbeamter/-beamtin",
            "Sozialarbeiter/in",
            "Hausmeister/in",
        ]
        with cursor.copy(
            "COPY employees (id, personnel_number, first_name, last_name, email, department_id,"
            " position, entry_date, active, locale, created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(1, sizes["employees"] + 1):
                entry = TODAY - timedelta(days=rng.randint(0, 30 * 365))
                copy.write_row(
                    (
                        n,
                        f"{n:07d}",
                        "Vorname",
                        f"Nachname {n}",
                        f"p{n}@stadt.example",
                        rng.choice(leaves),
                        rng.choice(positions),
                        entry,
                        True,
                        "de",
                        "2026-01-01T00:00:00+00",
                        "2026-01-01T00:00:00+00",
                    )
                )
        courses = 20
        with cursor.copy(
            "COPY courses (id, code, title, description, learning_goals, format, language,"
            " duration_minutes, default_capacity, trainer, validity_months, archived, created_at)"
            " FROM STDIN"
        ) as copy:
            for c in range(1, courses + 1):
                copy.write_row(
                    (
                        c,
                        f"K{c}",
                        f"Kurs {c}",
                        "",
                        "",
                        "in_person",
                        "de",
                        180,
                        16,
                        "",
                        36 if c % 4 else None,
                        False,
                        "2026-01-01T00:00:00+00",
                    )
                )
        with cursor.copy(
            "COPY completions (employee_id, course_id, completed_on, valid_until,"
            " certificate_ref, created_at) FROM STDIN"
        ) as copy:
            seen = set()
            while len(seen) < sizes["completions"]:
                employee = rng.randint(1, sizes["employees"])
                course = rng.randint(1, courses)
                day = TODAY - timedelta(days=rng.randint(0, 6 * 365))
                if (employee, course, day) in seen:
                    continue
                seen.add((employee, course, day))
                valid = None if course % 4 == 0 else day + timedelta(days=3 * 365 - 1)
                copy.write_row((employee, course, day, valid, "", "2026-01-01T00:00:00+00"))
        middles = [d[0] for d in departments if d[5] == 1]
        for r in range(1, sizes["requirements"] + 1):
            cursor.execute(
                "INSERT INTO requirements (id, name, description, first_due_date, grace_days,"
                " renewal_months, active, created_at) VALUES (%s, %s, '', %s, 180, %s, true,"
                " now())",
                (
                    r,
                    f"Pflicht {r}",
                    TODAY - timedelta(days=rng.randint(0, 900)),
                    rng.choice([None, 24, 36]),
                ),
            )
            for course in rng.sample(range(1, courses + 1), rng.randint(1, 3)):
                cursor.execute("INSERT INTO requirement_courses VALUES (%s, %s)", (r, course))
            kind = "all" if r <= 10 else "position" if r > 40 else "department"
            if kind == "all":
                cursor.execute(
                    "INSERT INTO requirement_audience (requirement_id, kind, exclude)"
                    " VALUES (%s, 'all', false)",
                    (r,),
                )
            elif kind == "department":
                for department in rng.sample(middles, min(3, len(middles))):
                    cursor.execute(
                        "INSERT INTO requirement_audience (requirement_id, kind, department_id,"
                        " exclude) VALUES (%s, 'department', %s, false)",
                        (r, department),
                    )
            else:
                cursor.execute(
                    "INSERT INTO requirement_audience (requirement_id, kind, position, exclude)"
                    " VALUES (%s, 'position', %s, false)",
                    (r, rng.choice(positions)),
                )
        for table in (
            "departments",
            "employees",
            "courses",
            "completions",
            "requirements",
            "requirement_audience",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
        raw.close()


def timed(repeat: int, work) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return round(statistics.median(times), 3), result


def measure(app, repeat: int) -> dict:
    from sqlalchemy import select, text

    from app.extensions import db
    from app.reports import exports, services
    from app.requirements.status import Status, people
    from app.staff.models import Department
    from app.staff.services import list_roots

    out: dict = {}
    with app.app_context():
        roots = list_roots(db.session)
        city_seconds, city_rows = timed(
            repeat,
            lambda: services.coverage(
                db.session, departments=roots, scope_roots=None, today=TODAY, due_soon_days=30
            ),
        )
        out["city_report_seconds"] = city_seconds
        out["city_report_rows"] = len(city_rows)
        hand_seconds, hand_rows = timed(
            repeat,
            lambda: db.session.execute(
                text(HAND_WRITTEN_CITY_SQL), {"today": TODAY, "soon": TODAY + timedelta(days=30)}
            ).all(),
        )
        out["hand_sql_city_seconds"] = hand_seconds
        out["app_vs_hand_sql"] = round(city_seconds / hand_seconds, 2)
        app_numbers = sorted(
            (r.department.id, r.requirement.id, r.in_scope, r.covered, r.overdue)
            for r in city_rows
            if r.department is not None
        )
        out["same_numbers_as_hand_sql"] = app_numbers == sorted(
            (int(a), int(b), int(c), int(d), int(e)) for a, b, c, d, e in hand_rows
        )
        head_root = db.session.scalars(select(Department).where(Department.depth == 1)).first()
        head_seconds, _ = timed(
            repeat,
            lambda: services.coverage(
                db.session,
                departments=[head_root, *head_root.children],
                scope_roots=[head_root],
                today=TODAY,
                due_soon_days=30,
                with_total=False,
            ),
        )
        out["head_report_seconds"] = head_seconds
        employee_seconds, mine = timed(
            repeat,
            lambda: list(
                people(
                    db.session,
                    roots=None,
                    today=TODAY,
                    due_soon_days=30,
                    statuses=[s.value for s in Status],
                    employee_id=4242,
                )
            ),
        )
        out["employee_page_query_seconds"] = employee_seconds
        out["employee_requirements"] = len(mine)

        dezernat = roots[0]
        tracemalloc.start()
        began = time.perf_counter()
        size = rows = 0
        for chunk in exports.people_csv(
            people(
                db.session,
                roots=[dezernat],
                today=TODAY,
                due_soon_days=30,
                statuses=[s.value for s in Status],
            ),
            scope_name=dezernat.name,
            today=TODAY,
        ):
            size += len(chunk)
            rows += chunk.count("\r\n")
        out["csv_export_rows"] = rows - 3
        out["csv_export_seconds"] = round(time.perf_counter() - began, 2)
        out["csv_export_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
        out["csv_export_mib"] = round(size / 2**20, 1)
    return out


#: The same numbers as the application's city report (per top department and requirement:
#: in scope, covered, overdue), written by hand for PostgreSQL.
HAND_WRITTEN_CITY_SQL = """
WITH staff AS (
    SELECT e.id, e.entry_date, e.position, d.path
    FROM employees e JOIN departments d ON d.id = e.department_id
    WHERE e.active AND (e.exit_date IS NULL OR e.exit_date >= :today)
), audience AS (
    SELECT s.id AS employee_id, a.requirement_id
    FROM requirement_audience a
    JOIN requirements r ON r.id = a.requirement_id AND r.active
    LEFT JOIN departments ad ON ad.id = a.department_id
    JOIN staff s ON a.kind = 'all'
        OR (a.kind = 'department' AND s.path LIKE ad.path || '%')
        OR (a.kind = 'position' AND lower(s.position) = lower(a.position))
    WHERE NOT a.exclude
    GROUP BY s.id, a.requirement_id
), best AS (
    SELECT c.employee_id, rc.requirement_id,
           max(LEAST(COALESCE(c.valid_until, DATE '9999-12-31'),
                     COALESCE((c.completed_on
                               + make_interval(months => r.renewal_months))::date - 1,
                              DATE '9999-12-31'))) AS until
    FROM completions c
    JOIN requirement_courses rc ON rc.course_id = c.course_id
    JOIN requirements r ON r.id = rc.requirement_id
    GROUP BY c.employee_id, rc.requirement_id
), scored AS (
    SELECT a.employee_id, a.requirement_id, s.path,
           b.until >= :today AS covered,
           GREATEST(COALESCE(b.until, DATE '0001-01-01'),
                    CASE WHEN r.grace_days IS NULL THEN r.first_due_date
                         WHEN r.first_due_date IS NULL
                              THEN COALESCE(s.entry_date, :today) + r.grace_days
                         ELSE GREATEST(r.first_due_date,
                                       COALESCE(s.entry_date, r.first_due_date) + r.grace_days)
                    END) AS due
    FROM audience a
    JOIN staff s ON s.id = a.employee_id
    JOIN requirements r ON r.id = a.requirement_id
    LEFT JOIN best b ON b.employee_id = a.employee_id AND b.requirement_id = a.requirement_id
    WHERE NOT EXISTS (SELECT 1 FROM exemptions x WHERE x.employee_id = a.employee_id
                      AND x.requirement_id = a.requirement_id AND x.starts_on <= :today
                      AND (x.ends_on IS NULL OR x.ends_on >= :today))
)
SELECT top.id, scored.requirement_id, count(*),
       count(*) FILTER (WHERE covered), count(*) FILTER (WHERE due < :today)
FROM scored JOIN departments top ON top.parent_id IS NULL AND scored.path LIKE top.path || '%'
GROUP BY top.id, scored.requirement_id
"""


if __name__ == "__main__":
    main()

"""A large city for the coverage benchmark, generated in bulk with COPY on PostgreSQL.

Creates the schema through the migrations, a department tree (12 Dezernate, 72 Fachbereiche,
576 Abteilungen), ``--staff`` people, 40 courses, 50 requirements with varied audiences,
validity, renewal windows and yearly cycles, and ``--completions-per-person`` completions each;
then rebuilds ``coverage_facts`` in full, timed, in a child process whose peak RSS is the
rebuild's memory. A database already generated with the same parameters is kept (the
parameters are stamped in the table ``bench_city``); ``--rebuild`` rebuilds the facts again.

    .venv/bin/python bench/city.py --staff 500000 --completions-per-person 20

The database defaults to ``schulung_bench_<staff/1000>k`` on ``BENCH_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recreate_database  # noqa: E402

#: The day the city is generated for (the coverage benchmark measures on it).
TODAY = date(2026, 11, 29)
#: Bump when the generated data changes shape, so an old database is generated again.
GENERATOR_VERSION = 2
POSITIONS = (
    "Sachbearbeiter/in",
    "Erzieher/in",
    "Amtsleitung",
    "Verwaltungsfachangestellte/r",
    "Feuerwehrbeamter/-beamtin",
    "Sozialarbeiter/in",
    "Hausmeister/in",
    "Ingenieur/in",
)
TOPS, MIDDLES_PER_TOP, LEAVES_PER_MIDDLE = 12, 6, 8
COURSES = 40


def default_url(staff: int) -> str:
    server = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
    return f"{server}/schulung_bench_{staff // 1000}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=50_000)
    parser.add_argument("--completions-per-person", type=int, default=20)
    parser.add_argument("--database-url", help="default: schulung_bench_<staff/1000>k")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the facts again")
    parser.add_argument("--no-rebuild", action="store_true", help="generate only")
    parser.add_argument("--rebuild-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.database_url or default_url(args.staff)
    # Before anything imports config, which reads the environment once.
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    if args.rebuild_child:
        print(json.dumps(rebuild_in_this_process(url)))
        return
    wanted = {
        "version": GENERATOR_VERSION,
        "staff": args.staff,
        "completions_per_person": args.completions_per_person,
    }
    result: dict = {"database_url": url, **wanted}
    stamp = read_stamp(url)
    if stamp is None or stamp.get("params") != wanted:
        began = time.perf_counter()
        recreate_database(url)
        generate(url, args.staff, args.completions_per_person)
        result["generate_seconds"] = round(time.perf_counter() - began, 1)
        write_stamp(url, {"params": wanted})
        stamp = read_stamp(url)
    else:
        result["generated"] = "kept (same parameters)"
    assert stamp is not None
    if not args.no_rebuild and (args.rebuild or "rebuild" not in stamp):
        child = subprocess.run(
            [sys.executable, __file__, "--rebuild-child", "--database-url", url],
            check=True,
            capture_output=True,
            text=True,
        )
        stamp["rebuild"] = json.loads(child.stdout.strip().splitlines()[-1])
        write_stamp(url, stamp)
    result["rebuild"] = stamp.get("rebuild")
    print(json.dumps(result, indent=2))


def read_stamp(url: str) -> dict | None:
    import psycopg

    try:
        with psycopg.connect(url) as connection:
            row = connection.execute("SELECT stamp FROM bench_city").fetchone()
    except psycopg.Error:
        return None
    return json.loads(row[0]) if row else None


def write_stamp(url: str, stamp: dict) -> None:
    import psycopg

    with psycopg.connect(url) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS bench_city (stamp text NOT NULL)")
        connection.execute("DELETE FROM bench_city")
        connection.execute("INSERT INTO bench_city VALUES (%s)", (json.dumps(stamp),))


def rebuild_in_this_process(url: str) -> dict:
    """The full rebuild as the application runs it, timed, with this process's peak RSS."""
    from sqlalchemy import func, select, text

    from app import create_app
    from app.extensions import db
    from app.requirements.facts import rebuild_facts, rebuild_workers
    from app.requirements.models import CoverageFact

    app = create_app()
    with app.app_context():
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        db.session.execute(text("TRUNCATE coverage_facts"))
        db.session.commit()
        chunks: list[float] = []
        last = [time.perf_counter()]

        def progress(_done: int, _total: int) -> None:
            now = time.perf_counter()
            chunks.append(now - last[0])
            last[0] = now

        began = time.perf_counter()
        rows = rebuild_facts(db.session, on_progress=progress, workers=rebuild_workers())
        seconds = time.perf_counter() - began
        db.session.execute(text("ANALYZE coverage_facts"))
        db.session.commit()
        count = db.session.scalar(select(func.count()).select_from(CoverageFact))
        chunks.sort()
    return {
        "seconds": round(seconds, 1),
        "rows": rows,
        "rows_counted": count,
        "chunks": len(chunks),
        "chunk_p50_s": round(chunks[len(chunks) // 2], 2) if chunks else None,
        "chunk_max_s": round(chunks[-1], 2) if chunks else None,
        "peak_rss_mib_before": round(rss_before / 1024, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def add_months(day: date, months: int) -> date:
    """``months`` after ``day``, clamped to the month's last day (the product's rule)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def generate(url: str, staff: int, per_person: int) -> None:
    """Schema by the migrations, then everything by COPY (one transaction), then ANALYZE."""
    import psycopg
    from flask_migrate import upgrade

    from app import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    rng = random.Random(13)
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        departments = _departments()
        with cursor.copy(
            "COPY departments (id, code, name, parent_id, path, depth) FROM STDIN"
        ) as copy:
            for row in departments:
                copy.write_row(row)
        leaves = [d[0] for d in departments if d[5] == 2]
        # Departments differ in size (a few large offices, many small ones).
        weights = [rng.paretovariate(1.5) for _ in leaves]
        homes = rng.choices(leaves, weights, k=staff)
        with cursor.copy(
            "COPY employees (id, personnel_number, first_name, last_name, email, department_id,"
            " position, entry_date, on_staff_since, exit_date, active, locale, created_at,"
            " updated_at) FROM STDIN"
        ) as copy:
            for n in range(1, staff + 1):
                entry = TODAY - timedelta(days=rng.randint(0, 35 * 365))
                leaving = rng.random() < 0.03
                copy.write_row(
                    (
                        n,
                        f"{n:07d}",
                        "Vorname",
                        f"Nachname {n}",
                        f"p{n}@stadt.example",
                        homes[n - 1],
                        rng.choice(POSITIONS),
                        None if rng.random() < 0.02 else entry,
                        date(2024, 1, 15),
                        max(entry, TODAY + timedelta(days=rng.randint(-30, 200)))
                        if leaving
                        else None,
                        rng.random() >= 0.01,
                        "de",
                        "2026-01-01T00:00:00+00",
                        "2026-01-01T00:00:00+00",
                    )
                )
        validity = {c: rng.choice([None, None, 12, 24, 36, 60]) for c in range(1, COURSES + 1)}
        with cursor.copy(
            "COPY courses (id, code, title, description, learning_goals, format, language,"
            " duration_minutes, default_capacity, trainer, validity_months, archived, created_at)"
            " FROM STDIN"
        ) as copy:
            for c in range(1, COURSES + 1):
                copy.write_row(
                    (c, f"K{c}", f"Kurs {c}", "", "", "in_person", "de", 180, 16, "",
                     validity[c], False, "2026-01-01T00:00:00+00")
                )  # fmt: skip
        _requirements(cursor, rng, departments)
        with cursor.copy(
            "COPY completions (id, employee_id, course_id, completed_on, valid_until,"
            " certificate_ref, created_at) FROM STDIN"
        ) as copy:
            completion_id = 0
            for employee in range(1, staff + 1):
                seen: set[tuple[int, date]] = set()
                while len(seen) < per_person:
                    course = rng.randint(1, COURSES)
                    day = TODAY - timedelta(days=rng.randint(0, 8 * 365))
                    if (course, day) in seen:
                        continue
                    seen.add((course, day))
                    months = validity[course]
                    valid = None if months is None else add_months(day, months) - timedelta(1)
                    completion_id += 1
                    copy.write_row(
                        (completion_id, employee, course, day, valid, "", "2026-01-01T00:00:00+00")
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
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")


def _departments() -> list[tuple]:
    rows: list[tuple] = []
    next_id = 1
    for t in range(TOPS):
        top = next_id
        next_id += 1
        rows.append((top, f"D{t}", f"Dezernat {t}", None, f"/{top}/", 0))
        for m in range(MIDDLES_PER_TOP):
            middle = next_id
            next_id += 1
            rows.append((middle, f"D{t}-F{m}", f"Fachbereich {t}.{m}", top, f"/{top}/{middle}/", 1))
            for leaf_n in range(LEAVES_PER_MIDDLE):
                leaf = next_id
                next_id += 1
                path = f"/{top}/{middle}/{leaf}/"
                rows.append((leaf, f"D{t}-F{m}-A{leaf_n}", f"Abteilung {t}.{m}.{leaf_n}",
                             middle, path, 2))  # fmt: skip
    return rows


def _requirements(cursor, rng: random.Random, departments: list[tuple]) -> None:
    """50 requirements: 20 for everyone, 20 for subtrees (some with an excluded part), 10 for
    positions (the last one inactive); renewal every 12/24/36 months (a third of them with a
    90-day window), a yearly cycle, or once; a first due date, grace days, or both."""
    tops = [d[0] for d in departments if d[5] == 0]
    middles = [d[0] for d in departments if d[5] == 1]
    leaves_of = {m: [d[0] for d in departments if d[3] == m] for m in middles}
    for r in range(1, 51):
        kind = r % 5
        renewal_months = window = cycle_month = cycle_day = None
        if kind in (0, 1, 2):
            renewal_months = rng.choice([12, 24, 36])
            window = 90 if kind == 0 else None
        elif kind == 3 and r % 2:
            cycle_month, cycle_day = rng.randint(1, 12), rng.randint(1, 28)
        first_due = TODAY - timedelta(days=rng.randint(-60, 1500))
        grace = rng.choice([None, 90, 180])
        if r % 7 == 0:
            first_due, grace = None, 180
        cursor.execute(
            "INSERT INTO requirements (id, name, description, first_due_date, grace_days,"
            " renewal_months, renewal_window_days, cycle_month, cycle_day, active, created_at)"
            " VALUES (%s, %s, '', %s, %s, %s, %s, %s, %s, %s, now())",
            (r, f"Pflicht {r}", first_due, grace, renewal_months, window, cycle_month,
             cycle_day, r != 50),
        )  # fmt: skip
        for course in rng.sample(range(1, COURSES + 1), rng.randint(1, 3)):
            cursor.execute("INSERT INTO requirement_courses VALUES (%s, %s)", (r, course))
        rules: list[tuple] = []
        if r <= 20:
            rules.append(("all", None, None, False))
        elif r <= 40:
            for department in rng.sample(tops + middles, rng.randint(2, 6)):
                rules.append(("department", department, None, False))
                if department in leaves_of and r % 3 == 0:
                    rules.append(("department", rng.choice(leaves_of[department]), None, True))
        else:
            for position in rng.sample(POSITIONS, rng.randint(2, 4)):
                rules.append(("position", None, position.upper() if r % 4 else position, False))
            if r % 3 == 0:
                rules.append(("department", rng.choice(tops), None, True))
        for kind_name, department, position, exclude in rules:
            cursor.execute(
                "INSERT INTO requirement_audience (requirement_id, kind, department_id,"
                " position, exclude) VALUES (%s, %s, %s, %s, %s)",
                (r, kind_name, department, position, exclude),
            )


if __name__ == "__main__":
    main()

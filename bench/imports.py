"""Staff import at the size of a large city, on PostgreSQL.

Creates 1,000 departments, then imports an Excel-style staff CSV (default 50,000 rows: UTF-8
with BOM, ``;``, CRLF, German dates, umlauts, quoted positions) through the application's own
steps (record upload, check, confirm, apply): the first import (all new; ``--repeat`` times on
an emptied table, median), the same file again (all unchanged) and a full export with 1 % of the
rows changed and 1 % missing (those are deactivated). Alternating with the first imports, a bare
loop (``csv.reader``, a code → id dict, chunked ``executemany`` inserts in one transaction) loads
the same rows; the script exits non-zero when the import takes more than ``--target`` times as
long (medians). Peak memory of check + apply is measured with ``tracemalloc`` in an extra,
untimed first import; ``--profile`` adds a cProfile of check and apply (top 15 entries by
cumulative time, on stderr).

    .venv/bin/python bench/imports.py [--rows 50000] [--repeat 3] [--target 3.0] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recreate_database  # noqa: E402

TODAY = date.today()
HEADER = [
    "Personalnummer",
    "Vorname",
    "Nachname",
    "E-Mail",
    "Organisationseinheit",
    "Stelle",
    "Eintrittsdatum",
    "Austrittsdatum",
]
FIRST_NAMES = [
    "Jürgen",
    "Ayşe",
    "Marija",
    "Özlem",
    "Björn",
    "Hans-Jürgen",
    "Zoë",
    "Sören",
    "Anna-Lena",
    "Mehmet",
    "Gülay",
    "Jörg",
    "Małgorzata",
    "Renée",
    "Thomas",
    "Käthe",
]
LAST_NAMES = [
    "Groß",
    "Çelik",
    "Kovačević",
    "Müller",
    "Schäfer",
    "Weiß",
    "Özdemir",
    "Jäger",
    "Nowak",
    "Köhler",
    "Strauß",
    "Böhm",
    "Yılmaz",
    "Hoffmann",
    "Dvořák",
    "Meißner",
]
POSITIONS = [
    "Sachbearbeitung; Kita",
    "Erzieherin",
    "Hausmeister/in",
    "Verwaltungsfachangestellte/r",
    "Amtsleitung; Bürgerbüro",
    "Sozialarbeiter/in",
    "Feuerwehrbeamter/-beamtin",
    "Sachbearbeitung Bußgeldstelle",
]
#: Ascii forms of the names for e-mail addresses.
ASCII = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "ç": "c",
        "č": "c",
        "ş": "s",
        "ł": "l",
        "ı": "i",
        "é": "e",
        "ë": "e",
        "ř": "r",
    }
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--departments", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3, help="first imports and bare loops")
    parser.add_argument("--target", type=float, default=3.0, help="largest import / bare ratio")
    parser.add_argument("--profile", action="store_true", help="cProfile check and apply")
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

    recreate_database(args.database_url)
    app = create_app()
    with app.app_context():
        began = time.perf_counter()
        setup(args.departments)
        setup_seconds = round(time.perf_counter() - began, 1)
        results = measure(args, setup_seconds)
    print(json.dumps(results, indent=2))
    if results["import_vs_bare"] > args.target:
        print(
            f"import takes {results['import_vs_bare']} × the bare loop (target ≤ {args.target})",
            file=sys.stderr,
        )
        sys.exit(1)


def setup(departments: int) -> None:
    """Schema and departments (not timed): ten roots, the rest spread below them."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.staff.services import create_department

    upgrade()
    roots = []
    for n in range(1, departments + 1):
        parent = roots[n % len(roots)] if len(roots) == 10 else None
        department = create_department(
            db.session, code=f"D{n:04d}", name=f"Organisationseinheit {n}", parent=parent
        )
        if parent is None:
            roots.append(department)
    db.session.commit()


def people(rows: int, departments: int) -> list[list[str]]:
    """The staff list as an HR system exports it (the same people on every call)."""
    rng = random.Random(7)
    out = []
    for n in range(1, rows + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        entry = TODAY - timedelta(days=rng.randint(30, 40 * 365))
        # a few have given notice: their exit date lies ahead, so they are still active
        leaves = TODAY + timedelta(days=rng.randint(1, 700)) if rng.random() < 0.03 else None
        out.append(
            [
                f"{n:07d}",
                first,
                last,
                f"{first}.{last}.{n}@stadt.example".lower().translate(ASCII),
                f"D{rng.randint(1, departments):04d}",
                rng.choice(POSITIONS),
                entry.strftime("%d.%m.%Y"),
                leaves.strftime("%d.%m.%Y") if leaves else "",
            ]
        )
    return out


def excel_csv(rows: list[list[str]]) -> bytes:
    """Excel's "CSV UTF-8 (Trennzeichen-getrennt)": BOM, ``;``, CRLF, quotes only where needed."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def changed_export(rows: list[list[str]], departments: int) -> tuple[bytes, int, int]:
    """The next month's full export: 1 % of the people changed, 1 % gone."""
    rng = random.Random(11)
    picked = rng.sample(range(len(rows)), max(2, len(rows) // 50))
    gone = set(picked[: len(picked) // 2])
    changed = set(picked[len(picked) // 2 :])
    out = []
    for index, row in enumerate(rows):
        if index in gone:
            continue
        if index in changed:
            row = list(row)
            what = index % 3
            if what == 0:  # moved to another department
                row[4] = f"D{(int(row[4][1:]) % departments) + 1:04d}"
            elif what == 1:  # married
                row[2] = f"{row[2]}-Schmitt"
            else:  # new job
                row[5] = "Teamleitung; Jugendamt"
        out.append(row)
    return excel_csv(out), len(changed), len(gone)


def mib(value: float) -> float:
    return round(value / 2**20, 1)


def max_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def empty_staff() -> None:
    """Back to no staff and no recorded runs (the tables referring to them are empty too)."""
    from sqlalchemy import text

    from app.extensions import db

    db.session.rollback()
    db.session.execute(text("TRUNCATE employees, import_runs RESTART IDENTITY CASCADE"))
    db.session.commit()
    db.session.execute(text("ANALYZE employees"))
    db.session.commit()


def product_import(content: bytes, *, profile: bool = False) -> dict:
    """One import through the application's steps, as the CLI runs them; times each step."""
    from app.extensions import db
    from app.imports import services
    from app.imports.models import ImportRun

    profiles = {}

    def step(name, work):
        if not profile:
            return work()
        profiler = cProfile.Profile()
        result = profiler.runcall(work)
        profiles[name] = profiler
        return result

    times = {}
    began = time.perf_counter()
    run = services.record_upload(
        db.session,
        kind="staff",
        filename="personal.csv",
        content=content,
        full_export=True,
        label="bench",
    )
    run_id = run.id
    db.session.commit()
    times["upload_seconds"] = time.perf_counter() - began
    began = time.perf_counter()
    plan = step("check", lambda: services.check(db.session, run_id, today=TODAY))
    times["check_seconds"] = time.perf_counter() - began
    run = db.session.get(ImportRun, run_id)
    if run.status != "ready":
        raise SystemExit(f"the check found problems: {run.report.get('problems', [])[:5]}")
    began = time.perf_counter()
    services.confirm(db.session, run, None)
    db.session.commit()
    times["confirm_seconds"] = time.perf_counter() - began
    began = time.perf_counter()
    applied = step("apply", lambda: services.apply(db.session, run_id, today=TODAY))
    times["apply_seconds"] = time.perf_counter() - began
    if applied is None:
        raise SystemExit("apply did nothing (status changed or preview differs)")
    out = {
        "total_seconds": round(sum(times.values()), 2),
        **{name: round(seconds, 2) for name, seconds in times.items()},
        "new": len(plan.new),
        "updated": len(plan.updated),
        "deactivated": len(plan.deactivated),
        "unchanged": plan.unchanged,
    }
    for name, profiler in profiles.items():
        print(f"\n=== cProfile: {name} (top 15 by cumulative time) ===", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(15)
    db.session.expire_all()
    return out


def bare_insert(content: bytes) -> float:
    """The baseline: read the same bytes with ``csv.reader``, look departments up in a dict and
    insert every row with a chunked ``executemany`` in one transaction. No checks, no plan."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.staff.models import Department, Employee

    began = time.perf_counter()
    with db.engine.begin() as connection:
        department_ids = dict(connection.execute(select(Department.code, Department.id)).all())
        reader = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";")
        next(reader)
        chunk = []
        for number, first, last, email, code, position, entry, leaves in reader:
            exit_date = datetime.strptime(leaves, "%d.%m.%Y").date() if leaves else None
            chunk.append(
                {
                    "personnel_number": number,
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "department_id": department_ids[code],
                    "position": position,
                    "entry_date": datetime.strptime(entry, "%d.%m.%Y").date(),
                    "exit_date": exit_date,
                    "active": exit_date is None or exit_date >= TODAY,
                }
            )
            if len(chunk) == 1000:
                connection.execute(insert(Employee), chunk)
                chunk = []
        if chunk:
            connection.execute(insert(Employee), chunk)
    return time.perf_counter() - began


def staff_counts() -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.staff.models import Employee

    total, active = db.session.execute(
        select(func.count(Employee.id), func.count(Employee.id).filter(Employee.active))
    ).one()
    db.session.commit()
    return {"employees": total, "active": active}


def measure(args, setup_seconds: float) -> dict:
    rows = people(args.rows, args.departments)
    content = excel_csv(rows)
    second, changed, gone = changed_export(rows, args.departments)
    print(
        f"staff CSV: {args.rows:,} rows, {len(content) / 2**20:.1f} MB ({len(content):,} bytes)",
        file=sys.stderr,
    )
    out: dict = {
        "rows": args.rows,
        "departments": args.departments,
        "csv_mib": mib(len(content)),
        "setup_seconds": setup_seconds,
    }

    # First import and bare loop alternately, each on an empty table; medians of --repeat.
    firsts, bares = [], []
    for attempt in range(args.repeat):
        empty_staff()
        bares.append(bare_insert(content))
        out["bare_rows"] = staff_counts()["employees"]
        empty_staff()
        if attempt == 0:
            out["max_rss_mib_before_first_import"] = max_rss_mib()
        firsts.append({**product_import(content), **staff_counts()})
        if attempt == 0:
            out["max_rss_mib_after_first_import"] = max_rss_mib()
    firsts.sort(key=lambda run: run["total_seconds"])
    out["first_import"] = firsts[(len(firsts) - 1) // 2]  # the median (the lower of two)
    out["first_import_total_seconds"] = [run["total_seconds"] for run in firsts]
    out["bare_seconds"] = sorted(round(seconds, 2) for seconds in bares)
    bare = statistics.median_low(bares)
    out["import_vs_bare"] = round(out["first_import"]["total_seconds"] / bare, 2)
    out["target"] = args.target

    # The same file again, then next month's export (the table holds the last first import).
    out["reimport_unchanged"] = {**product_import(content), **staff_counts()}
    out["reimport_1pct_changed_1pct_missing"] = {
        **product_import(second),
        **staff_counts(),
        "expected_updated": changed,
        "expected_deactivated": gone,
    }

    # Memory: the first import once more (untimed), its check and apply under tracemalloc.
    from app.extensions import db
    from app.imports import services
    from app.imports.models import ImportRun

    empty_staff()
    run = services.record_upload(
        db.session,
        kind="staff",
        filename="personal.csv",
        content=content,
        full_export=True,
        label="bench",
    )
    run_id = run.id
    db.session.commit()
    tracemalloc.start()
    services.check(db.session, run_id, today=TODAY)
    services.confirm(db.session, db.session.get(ImportRun, run_id), None)
    db.session.commit()
    applied = services.apply(db.session, run_id, today=TODAY)
    out["first_import_peak_python_mib"] = mib(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    out["first_import_under_tracemalloc_created"] = applied.created if applied else None
    out["max_rss_mib_end"] = max_rss_mib()

    if args.profile:
        empty_staff()
        product_import(content, profile=True)
    return out


if __name__ == "__main__":
    main()

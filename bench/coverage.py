"""Coverage at the size of a large city, on PostgreSQL, each number beside its physical limit.

Generates the city with ``bench/city.py`` (or keeps it, when generated with the same
parameters), then times, over ``--rounds`` rounds, the service functions the pages call:

- HR's city page (``reports.services.coverage`` over the top departments, the whole city);
- a head's page (the same over a mid-size Fachbereich and its Abteilungen);
- an employee's page (``my_requirements``: their statuses and the next dates for each);
- a completion recorded through the ORM and committed, with the coverage-facts hooks and with
  them switched off (the difference is what the facts add to the request), and the hooks'
  own time;
- the full rebuild (timed by ``bench/city.py`` in its own process, with its peak RSS).

Beside each, the physical limit measured in the same run: the same aggregate written by hand
over ``coverage_facts`` (one statement, through the same connection), the facts of one person
rewritten by their already compiled SQL, and for the rebuild the bare copy of the finished
table into a table with the same indexes. ``EXPLAIN (ANALYZE, BUFFERS)`` of the city page's
statement goes to ``--explain``.

    .venv/bin/python bench/coverage.py --staff 50000 [--rounds 20] [--explain plan.txt]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.city import TODAY, default_url, read_stamp  # noqa: E402
from bench.common import latency_summary  # noqa: E402

DUE_SOON_DAYS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=50_000)
    parser.add_argument("--completions-per-person", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--completion-rounds",
        type=int,
        help="completions timed (default: --rounds); each takes milliseconds, so a p95 of"
        " hundreds is cheap where the pages' rounds take seconds",
    )
    parser.add_argument("--database-url", help="default: schulung_bench_<staff/1000>k")
    parser.add_argument("--rebuild", action="store_true", help="time the full rebuild again")
    parser.add_argument("--explain", help="write EXPLAIN (ANALYZE, BUFFERS) of the city page here")
    parser.add_argument(
        "--skip-rebuild-limit", action="store_true", help="do not time the bare table copy"
    )
    args = parser.parse_args()
    url = args.database_url or default_url(args.staff)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    city = [
        sys.executable,
        str(ROOT / "bench" / "city.py"),
        "--staff",
        str(args.staff),
        "--completions-per-person",
        str(args.completions_per_person),
        "--database-url",
        url,
    ]
    subprocess.run(city + (["--rebuild"] if args.rebuild else []), check=True, stdout=2)
    stamp = read_stamp(url)
    assert stamp is not None and "rebuild" in stamp
    from flask_migrate import upgrade

    from app import create_app

    app = create_app()
    with app.app_context():
        upgrade()  # a city generated before the latest migrations gets their tables
    results: dict = {
        "staff": args.staff,
        "completions_per_person": args.completions_per_person,
        "rounds": args.rounds,
        "completion_rounds": args.completion_rounds or args.rounds,
        "load_before": os.getloadavg(),
    }
    results.update(measure(app, args))
    results["rebuild"] = stamp["rebuild"]
    if not args.skip_rebuild_limit:
        results["rebuild_limit"] = bare_copy(app)
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, default=str))


def rounds(count: int, work) -> tuple[dict, object]:
    """Run ``work`` once to warm up, then ``count`` times; p50/p95/max of those."""
    result = work()
    times = []
    for _ in range(count):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return latency_summary(times), result


def measure(app, args) -> dict:
    from sqlalchemy import func, select, text

    from app.extensions import db
    from app.reports import services
    from app.requirements import counts
    from app.requirements.models import CoverageCount, CoverageFact
    from app.requirements.services import my_requirements
    from app.requirements.status import Status, people
    from app.staff.models import Department, Employee
    from app.staff.services import list_roots

    out: dict = {}
    params = {"today": TODAY, "soon": TODAY + timedelta(days=DUE_SOON_DAYS)}
    with app.app_context():
        session = db.session
        forget_counts(session)  # first without today's counts, as before the beat counts them
        out["facts_rows"] = session.scalar(select(func.count()).select_from(CoverageFact))

        # --- HR's city page ------------------------------------------------------------
        def city_page():
            rows = services.coverage(
                session,
                departments=list_roots(session),
                scope_roots=None,
                today=TODAY,
                due_soon_days=DUE_SOON_DAYS,
            )
            session.rollback()  # each page is its own request and transaction
            return rows

        out["city_page"], city_rows = rounds(args.rounds, city_page)

        def city_hand():
            rows = hand_written(session, HAND_CITY_SQL, params)
            session.rollback()
            return rows

        out["city_limit"], hand_rows = rounds(args.rounds, city_hand)
        out["city_same_numbers"] = _numbers(city_rows) == sorted(hand_rows)
        if args.explain:
            out["city_explain"] = explain(session, city_page, args.explain)

        # --- a head's page: a Fachbereich of median size ------------------------------------
        sizes = session.execute(
            select(Department.id, func.count(Employee.id))
            .join(Employee, Employee.department_id == Department.id)
            .group_by(Department.id)
        ).all()
        per_leaf = dict(sizes)
        middles = session.scalars(select(Department).where(Department.depth == 1)).all()
        staff_of = {m.id: sum(per_leaf.get(c.id, 0) for c in m.children) for m in middles}
        middles = sorted(middles, key=lambda m: staff_of[m.id])
        head_root = middles[len(middles) // 2]
        head_id = head_root.id
        shown_ids = [head_root.id, *(c.id for c in head_root.children)]
        out["head_subtree"] = {
            "department": head_root.code,
            "departments": len(shown_ids),
            "staff": staff_of[head_root.id],
        }

        def head_page():
            # As the page: the head's department and its children are loaded in the request.
            root = session.get(Department, head_id)
            rows = services.coverage(
                session,
                departments=[root, *root.children],
                scope_roots=[root],
                today=TODAY,
                due_soon_days=DUE_SOON_DAYS,
            )
            session.rollback()
            return rows

        out["head_page"], head_rows = rounds(args.rounds, head_page)
        head_params = {**params, "ids": shown_ids, "root": head_id}

        def head_hand():
            rows = hand_written(session, HAND_HEAD_SQL, head_params)
            session.rollback()
            return rows

        out["head_limit"], head_hand_rows = rounds(args.rounds, head_hand)
        out["head_same_numbers"] = _numbers(head_rows) == sorted(head_hand_rows)

        # --- an employee's page ---------------------------------------------------------
        ids = session.scalars(select(Employee.id).where(Employee.active)).all()
        pick = random.Random(5)

        def employee_page():
            employee = session.get(Employee, pick.choice(ids))
            items = my_requirements(session, employee, today=TODAY, due_soon_days=DUE_SOON_DAYS)
            session.rollback()
            return items

        out["employee_page"], _ = rounds(args.rounds, employee_page)

        def employee_statuses():
            rows = list(
                people(
                    session,
                    roots=None,
                    today=TODAY,
                    due_soon_days=DUE_SOON_DAYS,
                    statuses=[s.value for s in Status],
                    employee_id=pick.choice(ids),
                )
            )
            session.rollback()
            return rows

        # The statuses alone; the page adds the next dates of each requirement's courses.
        out["employee_statuses"], _ = rounds(args.rounds, employee_statuses)

        def employee_hand():
            rows = hand_written(session, HAND_EMPLOYEE_SQL, {**params, "id": pick.choice(ids)})
            session.rollback()
            return rows

        out["employee_limit"], _ = rounds(args.rounds, employee_hand)

        # --- a completion, with and without the facts --------------------------------------
        out.update(completion_cost(session, ids, args.completion_rounds or args.rounds))
        session.execute(text("SELECT 1"))
        session.rollback()

        # --- the same with today's counts kept (requirements.counts) -------------------------
        began = time.perf_counter()
        counts.build(session, day=TODAY, due_soon_days=DUE_SOON_DAYS)
        out["counts_build_seconds"] = round(time.perf_counter() - began, 2)
        out["counts_rows"] = session.scalar(select(func.count()).select_from(CoverageCount))
        session.rollback()
        out["counted_city_page"], counted_rows = rounds(args.rounds, city_page)
        out["counted_city_same_numbers"] = _numbers(counted_rows) == _numbers(city_rows)

        def counted_city_hand():
            rows = hand_written(session, HAND_COUNTED_CITY_SQL, params)
            session.rollback()
            return rows

        out["counted_city_limit"], _ = rounds(args.rounds, counted_city_hand)
        out["counted_head_page"], counted_head_rows = rounds(args.rounds, head_page)
        out["counted_head_same_numbers"] = _numbers(counted_head_rows) == _numbers(head_rows)
        counted_cost = completion_cost(session, ids, args.completion_rounds or args.rounds)
        out["counted_completion_added_by_facts"] = counted_cost["completion_added_by_facts"]
        out["counted_completion_hook_own"] = counted_cost["completion_hook_own"]
        out["counts_differences"] = counts.differences(session)[0]
        session.rollback()
        # Leave the database as generated: uncounted, so the next run measures both again.
        forget_counts(session)
    return out


def forget_counts(session) -> None:
    from sqlalchemy import delete

    from app.requirements.models import CoverageCount, CoverageCountDay

    session.execute(delete(CoverageCount))
    session.execute(delete(CoverageCountDay))
    session.commit()


def hand_written(session, sql: str, params: dict) -> list:
    from sqlalchemy import text

    return list(session.execute(text(sql), params).all())


def _numbers(rows) -> list[tuple]:
    return sorted(
        (r.department.id, r.requirement.id, r.in_scope, r.compliant, r.due_soon, r.overdue,
         r.pending, r.exempt, r.covered)
        for r in rows
        if r.department is not None
    )  # fmt: skip


def completion_cost(session, ids: list[int], count: int) -> dict:
    """One completion added through the ORM and committed (as attendance does it), then taken
    away again: with the facts hooks, without them, and the hooks' own time; beside it the
    person's facts rewritten by SQL compiled before the clock starts."""
    from sqlalchemy import delete, event
    from sqlalchemy.orm import Session

    from app.courses.models import Completion
    from app.requirements import facts

    pick = random.Random(11)
    hooks = [
        ("after_flush", facts._note_changes),
        ("do_orm_execute", facts._note_bulk_changes),
        ("do_orm_execute", facts._write_before_reading),
        ("before_commit", facts._write_before_commit),
    ]
    hook_times: list[float] = []
    original = facts.write_pending

    def timed_write_pending(db_session, pending) -> None:
        began = time.perf_counter()
        original(db_session, pending)
        hook_times.append(time.perf_counter() - began)

    def one(with_facts: bool) -> float:
        employee = pick.choice(ids)
        touched.add(employee)
        day = TODAY - timedelta(days=pick.randint(0, 5000) + 9000)  # never taken before
        began = time.perf_counter()
        completion = Completion(
            employee_id=employee, course_id=pick.randint(1, 40), completed_on=day, valid_until=None
        )
        session.add(completion)
        session.commit()
        seconds = time.perf_counter() - began
        session.execute(delete(Completion).where(Completion.id == completion.id))
        session.commit()
        return seconds

    results: dict = {}
    touched: set[int] = set()
    facts.write_pending = timed_write_pending
    try:
        one(True)
        hook_times.clear()
        with_facts = [one(True) for _ in range(count)]
        # The delete's hook ran too: every second time is the add's.
        results["completion_hook_own"] = latency_summary(hook_times[0::2])
        for name, hook in hooks:
            event.remove(Session, name, hook)
        try:
            one(False)
            without = [one(False) for _ in range(count)]
        finally:
            for name, hook in hooks:
                event.listen(Session, name, hook)
    finally:
        facts.write_pending = original
    results["completion_with_facts"] = latency_summary(with_facts)
    results["completion_without_facts"] = latency_summary(without)
    added = sorted(w - o for w, o in zip(sorted(with_facts), sorted(without), strict=True))
    results["completion_added_by_facts"] = latency_summary([max(a, 0.0) for a in added])
    results["completion_rewrite_limit"] = precompiled_rewrite(session, ids, count, touched)
    # The benchmark changed these people's facts: they must still equal the live computation.
    found = facts.differences(session, employees=partial(facts.among, sorted(touched)))
    session.rollback()
    results["facts_differences_of_touched_people"] = found.total
    return results


def precompiled_rewrite(session, ids: list[int], count: int, touched: set[int]) -> dict:
    """The person's facts of the requirements a completed course fulfils deleted and inserted
    again by the statements the hook runs, compiled beforehand (outside the clock): what the
    database itself needs."""
    from sqlalchemy import Integer, bindparam, delete, insert, select

    from app.requirements import facts
    from app.requirements.models import CoverageFact, requirement_courses

    pick = random.Random(12)
    table = CoverageFact.__table__
    fulfils: dict[int, list[int]] = {}
    for course_id, requirement_id in session.execute(
        select(requirement_courses.c.course_id, requirement_courses.c.requirement_id)
    ):
        fulfils.setdefault(course_id, []).append(requirement_id)

    dialect = session.get_bind().dialect
    raw = session.connection().connection.driver_connection
    times = []
    for n in range(count + 1):
        employee = pick.choice(ids)
        requirements = fulfils.get(pick.randint(1, 40), []) or [0]
        touched.add(employee)
        person = bindparam("bench_person", value=employee, type_=Integer)

        def who(column, person=person):
            return column == person

        statements = [
            delete(table).where(who(table.c.employee_id), table.c.requirement_id.in_(requirements)),
            insert(table).from_select(
                list(facts.FACT_COLUMNS),
                facts.fact_query(employees=who, requirement_ids=requirements),
            ),
        ]
        compiled = []
        for statement in statements:
            text_form = statement.compile(
                dialect=dialect, compile_kwargs={"render_postcompile": True}
            )
            compiled.append((str(text_form), text_form.params))
        began = time.perf_counter()
        with raw.cursor() as cursor:
            for sql, params in compiled:
                cursor.execute(sql, params)
        raw.commit()
        if n:
            times.append(time.perf_counter() - began)
    session.rollback()
    return latency_summary(times)


def explain(session, page, path: str) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements ``page`` runs (the longest kept)."""
    from sqlalchemy import event, text

    seen: list[tuple[str, object]] = []
    engine = session.get_bind()

    def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        page()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    statement, parameters = max(seen, key=lambda s: len(s[0]))
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    raw.rollback()
    session.rollback()
    Path(path).write_text(statement + "\n\n" + plan + "\n")
    summary = {
        line.strip().split(":")[0]: line.strip().split(":", 1)[1].strip()
        for line in plan.splitlines()
        if line.strip().startswith(("Planning Time", "Execution Time", "Timing"))
    }
    session.execute(text("SELECT 1"))
    session.rollback()
    return summary


def bare_copy(app) -> dict:
    """The finished table copied into an empty one with the same indexes: the least a full
    rebuild has to write."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        session = db.session
        session.execute(text("DROP TABLE IF EXISTS bench_facts_copy"))
        session.execute(
            text("CREATE TABLE bench_facts_copy (LIKE coverage_facts INCLUDING INDEXES)")
        )
        session.commit()
        began = time.perf_counter()
        session.execute(text("INSERT INTO bench_facts_copy SELECT * FROM coverage_facts"))
        session.commit()
        seconds = time.perf_counter() - began
        session.execute(text("DROP TABLE bench_facts_copy"))
        session.commit()
    return {"seconds": round(seconds, 1)}


#: Per department and requirement, the seven numbers of a coverage row, from the kept facts.
_PER_DEPARTMENT = """
WITH exempt AS (
    SELECT DISTINCT employee_id, requirement_id FROM exemptions
    WHERE starts_on <= :today AND (ends_on IS NULL OR ends_on >= :today)
), scored AS (
    SELECT f.department_id, f.requirement_id,
           CASE WHEN x.employee_id IS NOT NULL THEN 'exempt'
                WHEN f.due_on < :today THEN 'overdue'
                WHEN f.due_on <= :soon THEN 'due_soon'
                WHEN f.valid_until >= :today THEN 'compliant'
                ELSE 'pending' END AS status,
           x.employee_id IS NULL AND f.valid_until >= :today AS covered
    FROM coverage_facts f
    LEFT JOIN exempt x ON x.employee_id = f.employee_id AND x.requirement_id = f.requirement_id
    WHERE (f.exit_date IS NULL OR f.exit_date >= :today)
      AND f.requirement_id IN (SELECT id FROM requirements WHERE active) {where}
), per_department AS (
    SELECT department_id, requirement_id,
           count(*) FILTER (WHERE status <> 'exempt') AS in_scope,
           count(*) FILTER (WHERE status = 'compliant') AS compliant,
           count(*) FILTER (WHERE status = 'due_soon') AS due_soon,
           count(*) FILTER (WHERE status = 'overdue') AS overdue,
           count(*) FILTER (WHERE status = 'pending') AS pending,
           count(*) FILTER (WHERE status = 'exempt') AS exempt,
           count(*) FILTER (WHERE covered) AS covered
    FROM scored GROUP BY department_id, requirement_id
)
SELECT target.id, p.requirement_id, sum(in_scope)::int, sum(compliant)::int,
       sum(due_soon)::int, sum(overdue)::int, sum(pending)::int, sum(exempt)::int,
       sum(covered)::int
FROM per_department p
JOIN departments member ON member.id = p.department_id
JOIN departments target ON member.path LIKE target.path || '%'
WHERE {targets}
GROUP BY target.id, p.requirement_id
"""
HAND_CITY_SQL = _PER_DEPARTMENT.format(where="", targets="target.parent_id IS NULL")
HAND_HEAD_SQL = _PER_DEPARTMENT.format(
    where="AND f.department_id = ANY(:ids)",
    targets="(target.id = :root OR target.parent_id = :root)",
)
#: The city page's figures from today's kept counts, rolled up to the top departments (the
#: bare read: without the day's exemptions, which the page joins on top).
HAND_COUNTED_CITY_SQL = """
SELECT target.id, c.requirement_id, sum(c.in_scope)::int, sum(c.compliant)::int,
       sum(c.due_soon)::int, sum(c.overdue)::int, sum(c.pending)::int, sum(c.exempt)::int,
       sum(c.covered)::int
FROM coverage_counts c
JOIN departments member ON member.id = c.department_id
JOIN departments target ON member.path LIKE target.path || '%'
WHERE c.day = :today AND target.parent_id IS NULL
  AND c.requirement_id IN (SELECT id FROM requirements WHERE active)
GROUP BY target.id, c.requirement_id
"""
#: One person's rows with their requirements' names, as the page lists them.
HAND_EMPLOYEE_SQL = """
SELECT r.name, f.due_on, f.valid_until,
       CASE WHEN EXISTS (SELECT 1 FROM exemptions x WHERE x.employee_id = f.employee_id
                         AND x.requirement_id = f.requirement_id AND x.starts_on <= :today
                         AND (x.ends_on IS NULL OR x.ends_on >= :today)) THEN 'exempt'
            WHEN f.due_on < :today THEN 'overdue'
            WHEN f.due_on <= :soon THEN 'due_soon'
            WHEN f.valid_until >= :today THEN 'compliant'
            ELSE 'pending' END
FROM coverage_facts f JOIN requirements r ON r.id = f.requirement_id AND r.active
WHERE f.employee_id = :id AND (f.exit_date IS NULL OR f.exit_date >= :today)
ORDER BY f.due_on, r.name
"""

if __name__ == "__main__":
    main()

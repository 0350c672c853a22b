"""Where one request of each measured page spends its time: CPU per request in-process, then a
cProfile of one page. The profile beside ``bench/pages.py`` (which measures throughput).

Uses the city ``bench/pages.py`` prepares (run that once first, or ``--prepare``), Flask's test
client logged in as the benchmark employee and head, and the page cache when ``--redis-url``
is given (its keys are flushed first: that Redis database is the benchmark's own).

    .venv/bin/python bench/page_profile.py --staff 50000 --redis-url redis://127.0.0.1:6379/13 \
        --profile "employee start page"

Prints per page: bytes, the lowest mean CPU and wall time per request over five batches (the
machine's other work only ever adds), and with ``--profile`` the top functions of that page.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.city import default_url  # noqa: E402
from bench.common import PASSWORD, TOKEN  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=50_000)
    parser.add_argument("--database-url", help="default: schulung_bench_<staff/1000>k")
    parser.add_argument("--redis-url", help="keep page parts in this Redis database")
    parser.add_argument("--prepare", action="store_true", help="add what the pages need first")
    parser.add_argument("--requests", type=int, default=15, help="per batch; five batches")
    parser.add_argument("--profile", help="profile this page (its name as listed)")
    parser.add_argument("--sort", default="cumulative", help="cProfile order")
    parser.add_argument(
        "--round-trips", action="store_true", help="count each page's round trips to PostgreSQL"
    )
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    url = args.database_url or default_url(args.staff)
    os.environ["DATABASE_URL"] = url
    os.environ["SECRET_KEY"] = "bench-secret"
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        os.environ["REDIS_URL"] = args.redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    from bench.pages import EMPLOYEE_LOGIN, HEAD_LOGIN, measured_date, prepare

    date_id = prepare(url) if args.prepare else measured_date(url)
    from bench.wsgi_bench import app

    employee, head = _logged_in(app, EMPLOYEE_LOGIN), _logged_in(app, HEAD_LOGIN)
    pages = {
        "trivial (no session)": (employee, "/bench/ping"),
        "employee start page": (employee, "/"),
        "Meine Schulungen": (employee, "/courses/mine"),
        "catalogue": (employee, "/courses/"),
        "date page": (employee, f"/courses/sessions/{date_id}"),
        "head's coverage page": (head, "/reports/coverage"),
    }
    if args.round_trips:
        from app.core.connections import RoundTrips
        from app.extensions import db

        with app.app_context():
            trips = RoundTrips(db.engine)
    else:
        trips = None
    for name, (client, path) in pages.items():
        for _ in range(3):
            response = client.get(path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        if trips:
            with trips:
                client.get(path)
            print(f"{name:24} {trips.count:3d} round trips: {', '.join(trips.seen)}")
        cpu, wall = [], []
        for _batch in range(5):
            started_cpu, started = time.process_time(), time.perf_counter()
            for _ in range(args.requests):
                client.get(path)
            cpu.append((time.process_time() - started_cpu) / args.requests * 1000)
            wall.append((time.perf_counter() - started) / args.requests * 1000)
        print(
            f"{name:24} {len(response.data):8,d} B   CPU {min(cpu):6.2f} ms   "
            f"wall {min(wall):6.2f} ms"
        )
    if args.profile:
        client, path = pages[args.profile]
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests * 2):
            client.get(path)
        profile.disable()
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


def _logged_in(app, email: str):
    client = app.test_client()
    token = TOKEN.search(client.get("/auth/login").get_data(as_text=True)).group(1)
    response = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, f"login of {email} answered {response.status_code}"
    return client


if __name__ == "__main__":
    main()

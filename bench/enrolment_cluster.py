"""Enrolment on several nodes: gunicorns behind haproxy, Celery workers, a mail sink, double clicks.

The product promises that a date's capacity is never exceeded and that every mail goes out exactly
once, also when one person clicks twice (a double click, a browser retry, two tabs). This runs the
real stack and checks those promises afterwards. It starts, on free ports of ``--ports``, and
stops again, also on failure:

* a fresh PostgreSQL database (``BENCH_CLUSTER_DATABASE_URL``, default ``bench_cluster``) with
  ``--dates`` dates of ``--capacity`` seats, ``--last-seat-dates`` dates of a single seat, and
  ``--users`` employees with logins and e-mail addresses;
* ``--nodes`` gunicorns serving ``bench.wsgi_bench:app`` (the app plus a trivial ``/bench/ping``),
  and haproxy in front of them (round robin, its own temporary config);
* ``--celery-workers`` Celery workers (no beat: each commit asks for delivery, and the script
  runs the sweep once itself) on ``BENCH_CLUSTER_REDIS_URL`` (default Redis db 9, flushed);
* an SMTP server in this process that records the Message-ID of everything it receives.

Everyone logs in through haproxy (not timed). Then, through haproxy, rounds of enrolment load
alternate with rounds of ``/bench/ping`` at the same concurrency: every person enrols on a date
(the first dates are the popular ones), a share cancel, some of those enrol again, some try for
a single-seat date; a share of every kind of click is a double click (2-3 identical POSTs on the
same cookie, released together). When the outbox is empty the script checks the invariants in
the database and the mail sink, prints JSON, and exits 1 if any of them fails.

    .venv/bin/python bench/enrolment_cluster.py --users 1000
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Client,
    add_logins,
    free_ports,
    latency_summary,
    login_all,
    recreate_database,
    wait_for,
)
from bench.outbox_faults import Sink, stop, wait  # noqa: E402

#: The own enrolment's cancel form on a date's page (an employee sees only their own).
CANCEL_FORM = re.compile(r'<form method="post" action="(/courses/enrolments/\d+/cancel)"')
#: Which status each step of an enrolment's history leaves, and from which statuses it may come
#: (None: the enrolment has no history yet). A cancelled enrolment is reused when the person
#: enrols again, so "booked" may follow "cancelled", but never "booked".
STEPS: dict[str, tuple[frozenset[str | None], str]] = {
    "booked": (frozenset({None, "cancelled"}), "booked"),
    "waitlisted": (frozenset({None, "cancelled"}), "waitlisted"),
    "promoted": (frozenset({"waitlisted"}), "booked"),
    "cancelled": (frozenset({"booked", "waitlisted"}), "cancelled"),
    "moved_away": (frozenset({"booked", "waitlisted"}), "cancelled"),
    "session_cancelled": (frozenset({"booked", "waitlisted"}), "cancelled"),
    **{
        outcome: (frozenset({"booked", "attended", "no_show", "excused"}), outcome)
        for outcome in ("attended", "no_show", "excused")
    },
}
#: How many violations of each invariant are listed by name in the output.
EXAMPLES = 5


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop everything on the way out
    smtp_port, *ports = free_ports(args.nodes + 2, args.ports)
    proxy_port = ports[0]
    os.environ.update(  # before config.py is imported; the servers inherit it
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        MAIL_USE_TLS="",
        MAIL_USE_SSL="",
        SECRET_KEY="bench-cluster-secret",  # the same on every node: a cookie is valid on each
        LOGIN_RATE_LIMIT="100000 per minute",
        LOGIN_RATE_LIMIT_PER_ADDRESS="100000 per minute",
        OUTBOX_KICK_ON_COMMIT="1",
        TRUSTED_PROXIES="1",
    )
    haproxy = find_haproxy()
    phases = Phases()

    with phases("prepare_database"):
        app, world = prepare_database(args)
    plans = plan_users(random.Random(args.seed), args, world)
    flush_redis(args.redis_url)
    sink = Sink(smtp_port)
    sink.start()
    results: dict = {"setup": describe(args, world), "seconds": phases.seconds}
    try:
        with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as processes:
            with phases("start_servers"):
                workers = start_cluster(processes, args, haproxy, Path(folder), ports)
            with phases("log_in"):
                clients = login_all(proxy_port, args.users, args.concurrency)
                tokens = fetch_tokens(clients, plans, args.concurrency)
            recorder = Recorder()
            with phases("load"):
                rounds = run_rounds(proxy_port, clients, tokens, plans, recorder, args)
            results["load"] = summarise_load(recorder, rounds)
            with phases("drain_outbox"):
                results["outbox"] = drain_outbox(app, args.drain_timeout)
            results["outbox"]["celery_workers_alive"] = sum(w.poll() is None for w in workers)
    finally:
        sink.stop()
        flush_redis(args.redis_url)
    if args.requests_csv:
        recorder.write_csv(Path(args.requests_csv))
    results["invariants"], results["mails"] = check_invariants(
        app, sink, recorder, results["outbox"]
    )
    results["ok"] = all(i["violations"] == 0 for i in results["invariants"].values())
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if not results["ok"]:
        sys.exit(1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--dates", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=50)
    parser.add_argument("--last-seat-dates", type=int, default=5, help="dates of one seat")
    parser.add_argument("--concurrency", type=int, default=50, help="people clicking at once")
    parser.add_argument(
        "--rounds", type=int, default=4, help="enrolment rounds (and as many pings)"
    )
    parser.add_argument("--double-click-share", type=float, default=0.3)
    parser.add_argument("--cancel-share", type=float, default=0.25)
    parser.add_argument("--reenrol-share", type=float, default=0.5, help="of those who cancelled")
    parser.add_argument("--last-seat-share", type=float, default=0.1)
    parser.add_argument("--nodes", type=int, default=2, help="gunicorn instances")
    parser.add_argument("--gunicorn-workers", type=int, default=2, help="per instance")
    parser.add_argument("--celery-workers", type=int, default=2)
    parser.add_argument("--celery-pool", choices=("threads", "prefork", "solo"), default="threads")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--drain-timeout", type=float, default=300, help="seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ports", type=port_span, default=range(5600, 5700), help="e.g. 5600-5699")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_CLUSTER_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_cluster"
        ),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/9"),
        help="a Redis database of its own: it is flushed before and after the run",
    )
    parser.add_argument("--json", help="write the results to this file too")
    parser.add_argument("--requests-csv", help="write every request (round, action, status, ms)")
    return parser.parse_args()


class Phases:
    """Wall-clock seconds of each named phase of the run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - began, 1)


def port_span(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


# --- the world: dates, people, what each person does -------------------------------------------


@dataclass(frozen=True)
class World:
    dates: list[int]
    last_seat_dates: list[int]


@dataclass(frozen=True)
class Step:
    #: enrol, cancel, reenrol (after cancelling) or last_seat (a single-seat date)
    action: str
    session_id: int
    #: Identical POSTs released together: 1, or 2-3 for a double click.
    clicks: int


def prepare_database(args: argparse.Namespace):
    """A fresh, migrated database with the dates and the people; returns the app and the dates."""
    recreate_database(args.database_url)

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
        course = Course(code="BENCH", title="Erste Hilfe am Arbeitsplatz (Benchmark)")
        first = utcnow() + timedelta(days=14)
        capacities = [args.capacity] * args.dates + [1] * args.last_seat_dates
        dates = [
            CourseSession(
                course=course,
                starts_at=first + timedelta(days=n),
                ends_at=first + timedelta(days=n, hours=3),
                capacity=capacity,
            )
            for n, capacity in enumerate(capacities)
        ]
        db.session.add_all([course, *dates])
        add_logins(db.session, department, args.users, with_email=True)
        db.session.commit()
        ids = [d.id for d in dates]
    return app, World(dates=ids[: args.dates], last_seat_dates=ids[args.dates :])


def plan_users(rng: random.Random, args: argparse.Namespace, world: World) -> list[list[Step]]:
    """What each person does, in order; the first dates are wanted most (linearly falling)."""
    weights = [len(world.dates) - n for n in range(len(world.dates))]

    def clicks() -> int:
        return rng.choice((2, 3)) if rng.random() < args.double_click_share else 1

    plans = []
    for _ in range(args.users):
        home = rng.choices(world.dates, weights)[0]
        steps = [Step("enrol", home, clicks())]
        if rng.random() < args.cancel_share:
            steps.append(Step("cancel", home, clicks()))
            if rng.random() < args.reenrol_share:
                steps.append(Step("reenrol", home, clicks()))
        if world.last_seat_dates and rng.random() < args.last_seat_share:
            steps.append(Step("last_seat", rng.choice(world.last_seat_dates), clicks()))
        plans.append(steps)
    return plans


def describe(args: argparse.Namespace, world: World) -> dict:
    return {
        "users": args.users,
        "dates": f"{len(world.dates)} x {args.capacity} seats",
        "last_seat_dates": f"{len(world.last_seat_dates)} x 1 seat",
        "nodes": f"{args.nodes} gunicorn x {args.gunicorn_workers} sync workers behind haproxy",
        "celery": f"{args.celery_workers} workers, pool {args.celery_pool} "
        f"x {args.celery_concurrency}",
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "shares": {
            "double_click": args.double_click_share,
            "cancel": args.cancel_share,
            "reenrol_after_cancel": args.reenrol_share,
            "last_seat": args.last_seat_share,
        },
        "seed": args.seed,
    }


# --- load ----------------------------------------------------------------------------------------


class Sample(NamedTuple):
    round: int
    action: str
    #: 0 for a request that got no answer at all.
    status: int
    seconds: float


@dataclass
class Recorder:
    """Every request of the measured load: its round, action, status and latency."""

    rows: list[Sample] = field(default_factory=list)
    #: People who wanted to cancel but whose page showed no cancel form.
    nothing_to_cancel: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(
        self, client: Client, round_no: int, action: str, method: str, path: str, body=None
    ) -> tuple[int, str]:
        began = time.perf_counter()
        try:
            status, text = client.request(method, path, body)
        except (OSError, http.client.HTTPException):
            status, text = 0, ""
        elapsed = time.perf_counter() - began
        with self.lock:
            self.rows.append(Sample(round_no, action, status, elapsed))
        return status, text

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(("round", "action", "status", "ms"))
            for row in self.rows:
                writer.writerow((row.round, row.action, row.status, round(row.seconds * 1000, 1)))


@dataclass(frozen=True)
class Round:
    number: int
    kind: str  # "enrol" or "ping"
    requests: int
    seconds: float


def fetch_tokens(clients: list[Client], plans: list[list[Step]], concurrency: int) -> list[str]:
    """Each person opens the page of the date they want first (not timed): its form's token."""
    with ThreadPoolExecutor(concurrency) as pool:
        return list(
            pool.map(
                lambda pair: pair[0].token(f"/courses/sessions/{pair[1][0].session_id}"),
                zip(clients, plans, strict=True),
            )
        )


def run_rounds(
    port: int,
    clients: list[Client],
    tokens: list[str],
    plans: list[list[Step]],
    recorder: Recorder,
    args: argparse.Namespace,
) -> list[Round]:
    """Enrolment rounds over slices of the people, each followed by a round of pings with as
    many requests at the same concurrency."""
    rounds = []
    people = list(range(len(clients)))
    size = -(-len(people) // args.rounds)
    for number, start in enumerate(range(0, len(people), size), start=1):
        chunk = people[start : start + size]
        before = len(recorder.rows)
        began = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(
                pool.map(
                    lambda n, number=number: act(recorder, number, clients[n], tokens[n], plans[n]),
                    chunk,
                )
            )
        enrol = Round(number, "enrol", len(recorder.rows) - before, time.perf_counter() - began)
        rounds.append(enrol)
        rounds.append(ping(port, number, enrol.requests, args.concurrency, recorder))
    return rounds


def act(recorder: Recorder, round_no: int, client: Client, token: str, steps: list[Step]) -> None:
    """One person's steps, one after the other, as a browser would send them."""
    for step in steps:
        page = f"/courses/sessions/{step.session_id}"
        if step.action == "cancel":
            _status, html = recorder.request(client, round_no, "page", "GET", page)
            form = CANCEL_FORM.search(html)
            if form is None:
                with recorder.lock:
                    recorder.nothing_to_cancel += 1
                continue
            path = form.group(1)
        else:
            path = f"{page}/enrol"
        click(recorder, round_no, client, step.action, path, token, step.clicks)


def click(
    recorder: Recorder,
    round_no: int,
    client: Client,
    action: str,
    path: str,
    token: str,
    times: int,
) -> None:
    """``times`` identical POSTs on the same cookie, released together."""
    if times == 1:
        recorder.request(client, round_no, action, "POST", path, {"csrf_token": token})
        return
    gate = threading.Barrier(times)

    def one() -> None:
        gate.wait()
        recorder.request(client, round_no, action, "POST", path, {"csrf_token": token})

    threads = [threading.Thread(target=one) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def ping(port: int, round_no: int, requests: int, concurrency: int, recorder: Recorder) -> Round:
    """``requests`` GETs of the trivial page, ``concurrency`` at a time."""
    shares = [requests // concurrency + (n < requests % concurrency) for n in range(concurrency)]

    def loop(count: int) -> None:
        client = Client(port)
        for _ in range(count):
            recorder.request(client, round_no, "ping", "GET", "/bench/ping")

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(loop, shares))
    return Round(round_no, "ping", requests, time.perf_counter() - began)


def summarise_load(recorder: Recorder, rounds: list[Round]) -> dict:
    by_kind: dict[str, dict] = {}
    for kind in ("enrol", "ping"):
        mine = [r for r in rounds if r.kind == kind]
        requests = sum(r.requests for r in mine)
        seconds = sum(r.seconds for r in mine)
        latencies = [r.seconds for r in recorder.rows if (r.action == "ping") == (kind == "ping")]
        by_kind[kind] = {
            "requests": requests,
            "seconds": round(seconds, 2),
            "per_second": round(requests / seconds, 1) if seconds else 0.0,
            **latency_summary(latencies),
            "rounds_per_second": [round(r.requests / r.seconds, 1) for r in mine],
        }
    by_action: dict[str, dict] = {}
    for action in dict.fromkeys(row.action for row in recorder.rows):
        rows = [row for row in recorder.rows if row.action == action]
        by_action[action] = {
            "requests": len(rows),
            "statuses": dict(sorted(collections.Counter(str(row.status) for row in rows).items())),
            **latency_summary([row.seconds for row in rows]),
        }
    enrol, ping_ = by_kind["enrol"]["per_second"], by_kind["ping"]["per_second"]
    return {
        "enrolment_rounds": by_kind["enrol"],
        "ping_rounds": by_kind["ping"],
        "enrolment_to_ping_throughput": round(enrol / ping_, 3) if ping_ else None,
        "by_action": by_action,
        "wanted_to_cancel_but_had_nothing": recorder.nothing_to_cancel,
    }


# --- after the load ------------------------------------------------------------------------------


def drain_outbox(app, timeout: float) -> dict:
    """Run the sweep once (what beat would do), then wait until nothing is queued or sending."""
    from sqlalchemy import func, select

    from app.core.models import OutboxMessage
    from app.extensions import db
    from app.notifications.tasks import deliver_outbox

    def counts() -> dict[str, int]:
        with app.app_context():
            return dict(
                db.session.execute(
                    select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                        OutboxMessage.status
                    )
                ).all()
            )

    began = time.perf_counter()
    with app.app_context():
        deliver_outbox.delay()
    try:
        wait(lambda: not ({"queued", "sending"} & set(counts())), timeout, "an empty outbox")
        drained = True
    except TimeoutError:
        drained = False
    return {
        "drained": drained,
        "drain_seconds": round(time.perf_counter() - began, 1),
        "by_status": counts(),
    }


def check_invariants(app, sink: Sink, recorder: Recorder, outbox: dict) -> tuple[dict, dict]:
    """Each invariant with its number of violations and a few examples; and what the mail
    sink received."""
    with app.app_context():
        from app.extensions import db

        walks = history_walks(db.session)
        checks = {
            **seat_invariants(db.session),
            "waiting_list_order_is_total": waiting_list_order(db.session),
            "history_is_a_valid_walk": _result(
                walks.invalid, enrolments=len(walks.invalid_enrolment_ids)
            ),
            "history_ends_in_the_status": _result(walks.wrong_end),
            **mail_invariants(db.session, sink, app.config["CALENDAR_UID_DOMAIN"]),
        }
        mails = mail_facts(db.session, sink, walks.invalid_event_ids)
    checks["outbox_drained"] = _result([] if outbox["drained"] else [outbox["by_status"]])
    checks["no_server_errors"] = _result(
        [
            f"{row.action}: {row.status or 'no answer'}"
            for row in recorder.rows
            if row.status >= 500 or row.status == 0
        ]
    )
    return checks, mails


def seat_invariants(db_session) -> dict:
    from sqlalchemy import func, select

    from app.courses.models import CourseSession, Enrolment

    rows = db_session.execute(
        select(
            CourseSession.id,
            CourseSession.capacity,
            CourseSession.seats_taken,
            func.count(Enrolment.id).filter(Enrolment.status == "booked"),
            func.count(Enrolment.id).filter(Enrolment.status == "waitlisted"),
        )
        .outerjoin(Enrolment, Enrolment.session_id == CourseSession.id)
        .group_by(CourseSession.id)
        .order_by(CourseSession.id)
    ).all()
    return {
        "seats_taken_equals_booked": _result(
            [f"date {i}: seats_taken {t}, booked {b}" for i, _c, t, b, _w in rows if t != b]
        ),
        "within_capacity": _result(
            [
                f"date {i}: capacity {c}, seats_taken {t}, booked {b}"
                for i, c, t, b, _w in rows
                if b > c or t > c
            ]
        ),
        "no_free_seat_while_someone_waits": _result(
            [
                f"date {i}: {c - b} free of {c}, {w} waiting"
                for i, c, _t, b, w in rows
                if w and b < c
            ]
        ),
    }


def waiting_list_order(db_session) -> dict:
    """No two people waiting for one date share their place in line: ``waitlist_number`` where
    the enrolments have that column, else (``waitlisted_at``, ``id``). The latter is unique by
    construction; how often the id had to break a tie of ``waitlisted_at`` is reported beside."""
    from sqlalchemy import MetaData, Table, and_, func, or_, select

    enrolments = Table("enrolments", MetaData(), autoload_with=db_session.connection())
    if "waitlist_number" in enrolments.c:
        key = [enrolments.c.waitlist_number]
    else:
        key = [enrolments.c.waitlisted_at, enrolments.c.id]
    waiting = enrolments.c.status == "waitlisted"
    shared = db_session.execute(
        select(enrolments.c.session_id, *key, func.count())
        .where(waiting)
        .group_by(enrolments.c.session_id, *key)
        .having(func.count() > 1)
    ).all()
    unordered = db_session.scalar(
        select(func.count()).where(and_(waiting, or_(*(column.is_(None) for column in key))))
    )
    same_time = select(enrolments.c.session_id).where(waiting)
    same_time = same_time.group_by(enrolments.c.session_id, enrolments.c.waitlisted_at)
    return _result(
        [f"date {row[0]}: {row[-1]} people share {tuple(map(str, row[1:-1]))}" for row in shared]
        + ([f"{unordered} waiting without a place in line"] if unordered else []),
        key=", ".join(column.name for column in key),
        waitlisted_at_ties=db_session.scalar(
            select(func.count()).select_from(same_time.having(func.count() > 1).subquery())
        ),
    )


@dataclass
class Walks:
    #: Steps that may not follow the status before them, e.g. "booked" after "booked".
    invalid: list[str] = field(default_factory=list)
    invalid_event_ids: set[int] = field(default_factory=set)
    invalid_enrolment_ids: set[int] = field(default_factory=set)
    #: Enrolments whose history leads to another status than the one they have.
    wrong_end: list[str] = field(default_factory=list)


def history_walks(db_session) -> Walks:
    """Walk every enrolment's events in order (by id) through ``STEPS``."""
    from sqlalchemy import select

    from app.courses.models import Enrolment, EnrolmentEvent

    events = db_session.execute(
        select(EnrolmentEvent.enrolment_id, EnrolmentEvent.id, EnrolmentEvent.action).order_by(
            EnrolmentEvent.enrolment_id, EnrolmentEvent.id
        )
    ).all()
    result = Walks()
    status_after: dict[int, str] = {}
    for enrolment_id, event_id, action in events:
        before = status_after.get(enrolment_id)
        allowed, after = STEPS[action]
        if before not in allowed:
            result.invalid.append(f"enrolment {enrolment_id}: {action} after {before}")
            result.invalid_event_ids.add(event_id)
            result.invalid_enrolment_ids.add(enrolment_id)
        status_after[enrolment_id] = after
    for enrolment_id, status in db_session.execute(select(Enrolment.id, Enrolment.status)):
        if status_after.get(enrolment_id) != status:
            result.wrong_end.append(
                f"enrolment {enrolment_id}: history ends {status_after.get(enrolment_id)}, "
                f"status {status}"
            )
    return result


def mail_invariants(db_session, sink: Sink, uid_domain: str) -> dict:
    """Every outbox row marked sent arrived once (by Message-ID); nothing arrived twice or
    without a sent row; nothing failed."""
    from sqlalchemy import select

    from app.core.models import OutboxMessage

    rows = db_session.execute(select(OutboxMessage.key, OutboxMessage.status)).all()
    sent = {f"<{key.replace(':', '.')}@{uid_domain}>" for key, status in rows if status == "sent"}
    arrived = collections.Counter(sink.ids_in_order)
    return {
        "every_sent_mail_arrived": _result(sorted(sent - set(arrived))),
        "no_mail_arrived_twice": _result(
            sorted(f"{mid} x {n}" for mid, n in arrived.items() if n > 1)
        ),
        "no_mail_without_a_sent_row": _result(sorted(set(arrived) - sent)),
        "no_mail_failed": _result(sorted(key for key, status in rows if status == "failed")),
    }


def mail_facts(db_session, sink: Sink, invalid_event_ids: set[int]) -> dict:
    """How many mails, by kind, and how many told of a step that should not have happened (the
    second "booked" of a double click: a distinct message, so it arrives, once)."""
    from sqlalchemy import select

    from app.core.models import OutboxMessage

    rows = db_session.execute(select(OutboxMessage.key, OutboxMessage.kind)).all()
    invalid_keys = {f"enrolment-event:{event_id}" for event_id in invalid_event_ids}
    return {
        "outbox_rows": len(rows),
        "by_kind": dict(sorted(collections.Counter(kind for _key, kind in rows).items())),
        "arrived": len(sink.ids_in_order),
        "arrived_distinct": len(set(sink.ids_in_order)),
        "about_invalid_steps": sum(key in invalid_keys for key, _kind in rows),
    }


def _result(violations: list, **extra) -> dict:
    return {"violations": len(violations), "examples": violations[:EXAMPLES], **extra}


# --- processes -----------------------------------------------------------------------------------


def start_cluster(
    processes: contextlib.ExitStack,
    args: argparse.Namespace,
    haproxy: str,
    folder: Path,
    ports: list[int],
) -> list[subprocess.Popen]:
    """haproxy on the first of ``ports`` before gunicorns on the others, and the Celery
    workers (returned); each is stopped when ``processes`` closes."""
    proxy_port, node_ports = ports[0], ports[1:]
    for port in node_ports:
        processes.callback(stop, start_gunicorn(port, args.gunicorn_workers))
    processes.callback(stop, start_haproxy(haproxy, proxy_port, node_ports, folder))
    workers = []
    for number in range(1, args.celery_workers + 1):
        workers.append(start_celery_worker(number, args))
        processes.callback(stop, workers[-1])
    for port in node_ports:
        wait_for(port, 60)
    wait_for(proxy_port, 30, "haproxy")
    return workers


def find_haproxy() -> str:
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if Path(p).exists()), None
    )
    if found is None:
        sys.exit("haproxy is not installed: `make haproxy` installs Debian's package")
    return found


def flush_redis(url: str) -> None:
    import redis

    with redis.Redis.from_url(url) as connection:
        connection.flushdb()


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--no-control-socket",  # its default path is one per user: the nodes would share it
            "bench.wsgi_bench:app",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=sys.stderr,  # stdout is the JSON
    )


def start_haproxy(binary: str, port: int, nodes: list[int], folder: Path) -> subprocess.Popen:
    config = folder / "haproxy.cfg"
    servers = "\n".join(f"    server node{n} 127.0.0.1:{p}" for n, p in enumerate(nodes, 1))
    config.write_text(
        f"""global
    maxconn 4096

defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 120s
    timeout server 120s

frontend web
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance roundrobin
{servers}
"""
    )
    subprocess.run([binary, "-c", "-q", "-f", str(config)], check=True, stdout=sys.stderr)
    return subprocess.Popen([binary, "-db", "-q", "-f", str(config)], stdout=sys.stderr)


def start_celery_worker(number: int, args: argparse.Namespace) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "worker",
            "worker",
            "--hostname",
            f"bench{number}@%h",
            "--pool",
            args.celery_pool,
            "--concurrency",
            str(args.celery_concurrency),
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=sys.stderr,  # stdout is the JSON
    )


if __name__ == "__main__":
    main()

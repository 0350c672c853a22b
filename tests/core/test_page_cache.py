"""Parts of pages kept in Redis stay correct on several nodes: a change made on one node shows
on every other at once; a rolled-back change changes nothing; Redis down serves fresh pages.

The tests that need Redis run in the suite's second pass (TEST_REDIS_URL); the behaviour a user
sees (fresh seats after a booking elsewhere) is checked in both passes.
"""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import event, select

from app import create_app
from app.core.page_cache import PREFIX, PageCache
from app.core.roles import Role
from app.courses.models import CourseSession
from app.extensions import db as _db
from config import TestConfig
from tests import factories
from tests.conftest import IsolatedClient, csrf_token

needs_redis = pytest.mark.skipif(
    not TestConfig.REDIS_URL, reason="the page cache lives in Redis (TEST_REDIS_URL)"
)


@pytest.fixture
def other_node(app):
    """A second web node: its own app, engine and Redis client; the same database and Redis."""
    node = create_app(TestConfig)
    node.test_client_class = IsolatedClient
    yield node
    with node.app_context():
        _db.engine.dispose()
    app.extensions["celery"].set_default()


def _log_in(client, email: str) -> None:
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={"email": email, "password": factories.DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, response.status_code


@pytest.fixture
def catalogue_city(make, db):
    """The id of a date with five free seats (an id: on SQLite, loading an expired object would
    open a transaction that holds the other node's write back)."""
    course = make.course(title="Interkulturelle Kompetenz im Bürgerservice")
    course_session = make.course_session(course, capacity=5, location="Rathaus, Raum 101")
    make.user("erika@stadt.example")
    make.user("mehmet@stadt.example")
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    date_id = course_session.id
    db.session.commit()
    return date_id


def test_a_booking_on_another_node_shows_in_the_catalogue_at_once(
    app, client, other_node, catalogue_city
):
    _log_in(client, "erika@stadt.example")
    assert "5 von 5" in client.get("/courses/").get_data(as_text=True)
    assert "5 von 5" in client.get("/courses/").get_data(as_text=True)  # kept, when Redis is

    with other_node.app_context():
        elsewhere = other_node.test_client()
        _log_in(elsewhere, "mehmet@stadt.example")
        path = f"/courses/sessions/{catalogue_city}"
        response = elsewhere.post(f"{path}/enrol", data={"csrf_token": csrf_token(elsewhere, path)})
        assert response.status_code == 302

    assert "4 von 5" in client.get("/courses/").get_data(as_text=True)


def test_a_date_changed_by_hr_on_another_node_shows_at_once(
    app, client, other_node, catalogue_city
):
    _log_in(client, "erika@stadt.example")
    assert "Rathaus, Raum 101" in client.get("/courses/").get_data(as_text=True)
    with other_node.app_context():
        changed = _db.session.get(CourseSession, catalogue_city)
        changed.location = "Stadtbibliothek, Saal 2"
        _db.session.commit()
    page = client.get("/courses/").get_data(as_text=True)
    assert "Stadtbibliothek, Saal 2" in page and "Rathaus, Raum 101" not in page


@needs_redis
def test_the_catalogue_is_read_from_redis_until_its_data_changes(app, client, catalogue_city):
    _log_in(client, "erika@stadt.example")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    client.get("/courses/")
    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        kept = client.get("/courses/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert "Interkulturelle Kompetenz im Bürgerservice" in kept
    assert not [s for s in statements if "course_sessions" in s], statements  # only the login
    assert list(app.extensions["page_cache"].client.scan_iter(f"{PREFIX}:catalogue:*"))
    # An English reader gets their own copy, not the German one.
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    assert "5 of 5" in client.get("/courses/").get_data(as_text=True)


@needs_redis
def test_a_rolled_back_change_raises_no_generation(app, catalogue_city, db):
    cache: PageCache = app.extensions["page_cache"]
    generation = f"{PREFIX}:gen:catalogue"
    before = int(cache.client.get(generation) or 0)
    db.session.get(CourseSession, catalogue_city).location = "nirgends"
    db.session.flush()
    db.session.rollback()
    db.session.execute(select(CourseSession.id)).all()
    db.session.commit()
    assert int(cache.client.get(generation) or 0) == before
    db.session.get(CourseSession, catalogue_city).location = "Stadtbibliothek"
    db.session.commit()
    assert int(cache.client.get(generation) or 0) == before + 1


def test_redis_unreachable_serves_the_page_fresh(app, client, catalogue_city, db):
    """A page cache whose Redis is gone renders every time (and says so in the log)."""
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    kept = app.extensions.get("page_cache")
    app.extensions["page_cache"] = PageCache(unreachable, 300)
    try:
        _log_in(client, "erika@stadt.example")
        assert "5 von 5" in client.get("/courses/").get_data(as_text=True)
        db.session.get(CourseSession, catalogue_city).capacity = 7
        db.session.commit()  # raising the generation fails quietly
        assert "7 von 7" in client.get("/courses/").get_data(as_text=True)
    finally:
        if kept is None:
            app.extensions.pop("page_cache")
        else:
            app.extensions["page_cache"] = kept


def test_an_exemption_made_on_another_node_shows_on_the_heads_coverage_page_at_once(
    app, client, other_node, make, db
):
    import re
    from datetime import date

    from app.requirements.models import AudienceKind, AudienceRule, Requirement

    unit = make.department("BA", name="Bürgeramt")
    course = make.course("IKK", title="Interkulturelle Kompetenz")
    basis = Requirement(name="Basis", first_due_date=date(2030, 1, 1), courses=[course])
    basis.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(basis)
    first = make.employee(unit, personnel_number="P-1")
    make.employee(unit, personnel_number="P-2")
    make.user("head@stadt.example", roles=(Role.HEAD,), heads=(unit,), with_employee=False)
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    requirement_id, number = basis.id, first.personnel_number
    db.session.commit()

    def in_scope() -> int:
        page = client.get("/reports/coverage").get_data(as_text=True)
        return int(re.findall(r'<td class="num">(\d+)</td>', page)[0])

    _log_in(client, "head@stadt.example")
    assert in_scope() == 2
    assert in_scope() == 2  # kept, when Redis is
    with other_node.app_context():
        elsewhere = other_node.test_client()
        _log_in(elsewhere, "hr@stadt.example")
        path = f"/requirements/{requirement_id}/exemptions"
        response = elsewhere.post(
            path,
            data={
                "personnel_number": number,
                "reason": "Elternzeit",
                "starts_on": "2020-01-01",
                "csrf_token": csrf_token(elsewhere, path),
            },
        )
        assert response.status_code == 302
    assert in_scope() == 1


@needs_redis
def test_only_what_the_data_bounds_is_kept(app, client, catalogue_city):
    """Made-up query strings are answered but not kept: Redis is the task queue too."""
    _log_in(client, "erika@stadt.example")
    cache: PageCache = app.extensions["page_cache"]

    def kept() -> int:
        return len(list(cache.client.scan_iter(f"{PREFIX}:catalogue:*")))

    client.get("/courses/")
    client.get("/courses/?language=de")
    assert kept() == 2
    for query in ("?course=999999", "?language=xx", "?month=2027-03", "?utm=1", "?page=11"):
        assert client.get(f"/courses/{query}").status_code in (200, 404)
    assert kept() == 2
    assert "5 von 5" in client.get("/courses/?language=").get_data(as_text=True)


def test_seats_booked_at_once_on_another_node_show_while_readers_keep_the_catalogue(
    app, client, other_node, make, db
):
    """Eight people book the same date at the same moment on the second node, one of them with
    a double click, while four readers on the first node keep reading (and, with Redis,
    keeping) the catalogue: afterwards the first node shows the seats the eight left."""
    import threading

    course_session = make.course_session(make.course(title="Erste Hilfe"), capacity=20)
    date_id, path = course_session.id, f"/courses/sessions/{course_session.id}"
    emails = [f"person{n}@stadt.example" for n in range(8)]
    for email in emails:
        make.user(email)
    make.user("reader@stadt.example")
    db.session.commit()

    with other_node.app_context():
        writers = []
        for n, email in enumerate(emails):
            writer = other_node.test_client()
            # Each from their own computer (the login limit counts per address).
            writer.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
            _log_in(writer, email)
            writers.append((writer, csrf_token(writer, path)))
        double_click = other_node.test_client()  # the first person's second tab
        double_click.environ_base["REMOTE_ADDR"] = "10.0.0.1"
        double_click.set_cookie("session", writers[0][0].get_cookie("session").value)
        writers.append((double_click, writers[0][1]))
    _log_in(client, "reader@stadt.example")
    readers = []
    for _ in range(4):  # four tabs of one reader
        reader = app.test_client()
        reader.set_cookie("session", client.get_cookie("session").value)
        readers.append(reader)
    db.session.commit()

    barrier = threading.Barrier(len(writers) + len(readers))
    done = threading.Event()
    answers: list[int] = []

    def write(writer, token) -> None:
        with other_node.app_context():
            barrier.wait()
            answers.append(writer.post(f"{path}/enrol", data={"csrf_token": token}).status_code)

    def read(reader) -> None:
        with app.app_context():
            barrier.wait()
            while not done.is_set():
                answers.append(reader.get("/courses/").status_code)

    reading = [threading.Thread(target=read, args=(r,)) for r in readers]
    writing = [threading.Thread(target=write, args=w) for w in writers]
    for thread in reading + writing:
        thread.start()
    for thread in writing:
        thread.join(timeout=120)
    done.set()
    for thread in reading:
        thread.join(timeout=120)

    assert set(answers) <= {200, 302}, answers
    booked = db.session.scalar(select(CourseSession.seats_taken).where(CourseSession.id == date_id))
    assert booked == len(emails)
    for reader in readers:
        assert "12 von 20" in reader.get("/courses/").get_data(as_text=True)


def test_a_date_that_begins_leaves_the_kept_catalogue_in_that_minute(
    app, client, make, db, monkeypatch
):
    """The minute is part of the key: a kept catalogue stops offering a date once it began."""
    from datetime import timedelta

    import app.courses.services.queries as queries
    import app.courses.views as views
    from app.core.types import utcnow

    soon = make.course_session(make.course(title="Beginnt gleich"), starts_in=timedelta(seconds=90))
    later = make.course_session(make.course(title="Beginnt später"), starts_in=timedelta(days=3))
    make.user("erika@stadt.example")
    db.session.commit()
    _log_in(client, "erika@stadt.example")
    soon_link, later_link = f"/courses/sessions/{soon.id}", f"/courses/sessions/{later.id}"
    page = client.get("/courses/").get_data(as_text=True)
    assert soon_link in page and later_link in page
    assert soon_link in client.get("/courses/").get_data(as_text=True)  # kept

    def after_it_began():
        return utcnow() + timedelta(minutes=2)

    monkeypatch.setattr(views, "utcnow", after_it_began)
    monkeypatch.setattr(queries, "utcnow", after_it_began)
    page = client.get("/courses/").get_data(as_text=True)
    assert soon_link not in page and later_link in page

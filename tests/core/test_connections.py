"""Connections to PostgreSQL: a page costs its statements' round trips and no more, a request
that reads and then writes still writes in one transaction, and a connection the database has
closed (a restart) is replaced instead of failing a request.

The PostgreSQL behaviour runs in the suite's second pass (TEST_DATABASE_URL); which statements
need a transaction is checked in both.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from app.core.connections import RoundTrips, needs_transaction
from app.staff.models import Department
from config import TestConfig

on_postgresql = pytest.mark.skipif(
    not TestConfig.SQLALCHEMY_DATABASE_URI.startswith("postgresql"),
    reason="PostgreSQL's connections (TEST_DATABASE_URL)",
)


@pytest.mark.parametrize(
    ("statement", "needs"),
    [
        ("SELECT users.id FROM users WHERE users.id = %(pk)s", False),
        ("\n  select count(*) from course_sessions", False),
        ("SELECT id FROM course_sessions WHERE id = 1 FOR UPDATE OF course_sessions", True),
        ("SELECT id FROM users FOR NO KEY UPDATE", True),
        ("SELECT id FROM users FOR SHARE", True),
        ("SELECT pg_advisory_xact_lock(7)", True),
        ("SELECT nextval('users_id_seq')", True),
        ("INSERT INTO access_log (purpose) VALUES ('x')", True),
        ("UPDATE course_sessions SET seats_taken = seats_taken + 1", True),
        ("DELETE FROM enrolments", True),
        ("WITH moved AS (DELETE FROM x RETURNING *) SELECT * FROM moved", True),
        ("WITH counted AS (UPDATE x SET n = n + 1 RETURNING n) SELECT n FROM counted", True),
        ("WITH listed AS (SELECT id FROM requirements) SELECT id FROM listed", False),
        ("SELECT users.updated_at, deleted_on FROM users", False),
        ("INSERT INTO access_events SELECT 1", True),
        ("SAVEPOINT sa_savepoint_1", True),
        ("selected", True),
    ],
)
def test_only_a_read_runs_outside_a_transaction(statement, needs):
    assert needs_transaction(statement) is needs


@pytest.fixture
def statements(db):
    """The statements SQLAlchemy sends while a test runs."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


@on_postgresql
@pytest.mark.parametrize("path", ["/", "/courses/mine", "/courses/"])
def test_a_page_costs_its_statements_round_trips_and_no_more(
    app, db, make, client, login, statements, path
):
    employee = make.user("erika@stadt.example")
    make.course_session(make.course(title="Kommunikation"), capacity=10)
    db.session.commit()
    assert login(employee.email).status_code == 302
    assert client.get(path).status_code == 200  # the pool holds a connection already

    statements.clear()
    with RoundTrips(db.engine) as trips:
        assert client.get(path).status_code == 200

    # No pre-ping, no BEGIN, no ROLLBACK at the request's end: one round trip per statement.
    assert trips.count == len(statements) > 0, (trips.seen, statements)
    assert not {"BEGIN", "ROLLBACK", "COMMIT"} & set(trips.seen), trips.seen


@on_postgresql
def test_a_form_submission_keeps_its_transaction_from_the_first_statement(
    app, db, make, client, login
):
    from tests.conftest import csrf_token

    employee = make.user("erika@stadt.example")
    course_session = make.course_session(make.course(title="Kommunikation"), capacity=10)
    db.session.commit()
    assert login(employee.email).status_code == 302
    token = csrf_token(client, "/courses/")
    with RoundTrips(db.engine) as trips:
        response = client.post(
            f"/courses/sessions/{course_session.id}/enrol", data={"csrf_token": token}
        )
    assert response.status_code in (302, 303), response.status_code
    assert trips.seen[0] == "BEGIN", trips.seen
    assert "COMMIT" in trips.seen, trips.seen


@on_postgresql
def test_a_read_only_request_that_writes_writes_in_one_transaction(app, db):
    """Reads first (outside a transaction), then two writes of which the second fails: the
    first is rolled back with it. Written row by row outside a transaction, it would stay."""
    db.session.add(Department(code="10", name="Hauptamt"))
    db.session.commit()
    with app.test_request_context("/", method="GET"), app.app_context():
        session = db.session
        assert session.scalar(select(Department.name).where(Department.code == "10"))
        session.add(Department(code="20", name="Kämmerei"))
        session.flush()
        session.add(Department(code="10", name="Hauptamt, doppelt"))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
        session.remove()
    assert db.session.scalars(select(Department.code)).all() == ["10"]


@on_postgresql
def test_a_lock_taken_in_a_read_only_request_holds_until_its_end(app, db):
    db.session.add(Department(code="10", name="Hauptamt"))
    db.session.commit()
    other = create_engine(TestConfig.SQLALCHEMY_DATABASE_URI)
    try:
        with app.test_request_context("/", method="GET"), app.app_context():
            db.session.execute(select(Department).with_for_update()).all()
            with other.connect() as connection, pytest.raises(OperationalError):
                connection.execute(text("SELECT id FROM departments FOR UPDATE NOWAIT")).all()
            db.session.commit()
            db.session.remove()
        with other.connect() as connection:  # released with the request's transaction
            assert connection.execute(text("SELECT id FROM departments FOR UPDATE NOWAIT")).all()
    finally:
        other.dispose()


@on_postgresql
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_request_after_the_database_closed_the_pools_connections_is_answered(
    app, db, make, client, login, method
):
    """As after a restart of PostgreSQL: every idle connection of the pool has been ended by
    the server. The next request gets a new connection instead of an error."""
    from tests.conftest import csrf_token

    employee = make.user("erika@stadt.example")
    db.session.commit()
    assert login(employee.email).status_code == 302
    token = csrf_token(client, "/") if method == "POST" else None
    pooled: set[int] = set()

    def note(dbapi_connection, _record, _proxy) -> None:
        pooled.add(dbapi_connection.info.backend_pid)

    event.listen(db.engine, "checkout", note)
    try:
        assert client.get("/").status_code == 200
    finally:
        event.remove(db.engine, "checkout", note)
    db.session.commit()  # the test's own session gives its connection back too
    other = create_engine(TestConfig.SQLALCHEMY_DATABASE_URI, poolclass=NullPool)
    with other.connect() as connection:
        ended = connection.execute(
            text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest(:p) pid"),
            {"p": sorted(pooled)},
        ).scalar_one()
        assert ended == len(pooled) >= 1
        for _ in range(50):  # until the server has ended them
            alive = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"),
                {"p": sorted(pooled)},
            ).scalar_one()
            if not alive:
                break
            time.sleep(0.02)
    other.dispose()
    if method == "GET":
        assert client.get("/").status_code == 200
    else:
        response = client.post("/language", data={"csrf_token": token, "locale": "en"})
        assert response.status_code in (302, 303), response.status_code
        db.session.expire_all()
        assert db.session.get(type(employee), employee.id).locale == "en"


@on_postgresql
def test_a_streamed_read_in_a_read_only_request_gets_its_transaction(app, db):
    """Exports stream their rows through a server-side cursor, which PostgreSQL opens only
    inside a transaction."""
    db.session.add_all(Department(code=f"{n}", name=f"Amt {n}") for n in range(5))
    db.session.commit()
    with app.test_request_context("/", method="GET"), app.app_context():
        rows = db.session.execute(
            select(Department.code).order_by(Department.code).execution_options(yield_per=2)
        )
        assert [code for (code,) in rows] == ["0", "1", "2", "3", "4"]
        db.session.remove()

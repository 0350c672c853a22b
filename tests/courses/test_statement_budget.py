"""Enrolling through the form is a short transaction: a fixed, small number of statements."""

from __future__ import annotations

from sqlalchemy import event

from app.extensions import db as _db
from tests.conftest import csrf_token


def test_enrolling_takes_eight_statements_or_fewer(app, client, login, make, staff_user):
    course_session = make.course_session(capacity=5)
    for _ in range(30):  # other people's bookings must not cost anything
        make.employee()
    login("erika@stadt.example")
    page = f"/courses/sessions/{course_session.id}"
    token = csrf_token(client, page)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        response = client.post(f"{page}/enrol", data={"csrf_token": token})
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)

    assert response.status_code == 302
    sql = [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    assert len(sql) <= 8, "\n".join(sql)

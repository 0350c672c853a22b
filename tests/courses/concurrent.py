"""Doing things at the same moment: threads on separate database connections, released together.

Each thread has its own app context, so its own session and connection (a SQLite file or
PostgreSQL); data is committed, because another connection cannot see an open transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import User
from app.courses.models import CourseSession, Enrolment
from app.courses.services import catalogue, enrolment
from app.extensions import db
from app.staff.models import Employee


def run_at_once(app: Flask, jobs: list[Callable[[Any], object]]) -> list[BaseException]:
    """Run each job (given the thread's db session) in its own thread and app context, all
    released together by a barrier; each commits on success. Returns the errors raised."""
    db.session.commit()  # end the test's own transaction: on SQLite it would hold the lock
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[Any], object]) -> None:
        with app.app_context():
            barrier.wait()
            try:
                job(db.session)
                db.session.commit()
            except BaseException as error:  # collected and asserted on by the caller
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    _run_threads([threading.Thread(target=run, args=(job,)) for job in jobs])
    return errors


def post_at_once(app: Flask, clients: list[FlaskClient], path: str, data: dict) -> list[Any]:
    """The same form sent by every client at the same moment (a double click, a browser
    retry, two tabs); returns the responses in the clients' order."""
    db.session.commit()
    barrier = threading.Barrier(len(clients))
    responses: list[Any] = [None] * len(clients)

    def send(index: int, client: FlaskClient) -> None:
        with app.app_context():
            barrier.wait()
            responses[index] = client.post(path, data=data)

    _run_threads([threading.Thread(target=send, args=(n, c)) for n, c in enumerate(clients)])
    return responses


def tabs_of(client: FlaskClient, app: Flask, count: int) -> list[FlaskClient]:
    """``count`` browser tabs of the person logged in on ``client``: they share its cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "log in first"
    tabs = []
    for _ in range(count):
        tab = app.test_client()
        tab.set_cookie("session", cookie.value)
        tabs.append(tab)
    return tabs


# Jobs for run_at_once: each takes ids (objects belong to one session, and so to one thread).


def enrol_job(employee_id: int, session_id: int, actor_id: int) -> Callable[[Any], object]:
    def job(db_session: Any) -> object:
        return enrolment.enrol(
            db_session,
            employee=db_session.get(Employee, employee_id),
            course_session=db_session.get(CourseSession, session_id),
            actor=db_session.get(User, actor_id),
        )

    return job


def cancel_job(enrolment_id: int, actor_id: int) -> Callable[[Any], object]:
    def job(db_session: Any) -> object:
        return enrolment.cancel_enrolment(
            db_session,
            enrolment=db_session.get(Enrolment, enrolment_id),
            actor=db_session.get(User, actor_id),
        )

    return job


def move_job(enrolment_id: int, session_id: int, actor_id: int) -> Callable[[Any], object]:
    def job(db_session: Any) -> object:
        return enrolment.move_enrolment(
            db_session,
            enrolment=db_session.get(Enrolment, enrolment_id),
            target=db_session.get(CourseSession, session_id),
            actor=db_session.get(User, actor_id),
        )

    return job


def leave_job(enrolment_id: int) -> Callable[[Any], object]:
    def job(db_session: Any) -> object:
        return enrolment.withdraw_leaver(
            db_session, enrolment=db_session.get(Enrolment, enrolment_id), actor=None
        )

    return job


def capacity_job(session_id: int, capacity: int, actor_id: int) -> Callable[[Any], object]:
    def job(db_session: Any) -> object:
        found = db_session.get(CourseSession, session_id)
        fields = {name: getattr(found, name) for name in catalogue.SessionData.__dataclass_fields__}
        data = catalogue.SessionData(**{**fields, "capacity": capacity})
        return catalogue.update_session(
            db_session, found, data=data, actor=db_session.get(User, actor_id)
        )

    return job


def call_off_job(session_id: int, actor_id: int) -> Callable[[Any], object]:
    def job(db_session: Any) -> object:
        return catalogue.cancel_session(
            db_session,
            db_session.get(CourseSession, session_id),
            actor=db_session.get(User, actor_id),
        )

    return job


def _run_threads(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a concurrent request hung"

"""A directory user's first day: log in with the Windows account, see what is due, book it."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User
from app.core.clock import local_today
from app.courses.models import CourseSession
from app.requirements.models import AudienceKind, AudienceRule, Requirement
from tests.directory import directory, password_of, slapd_server  # noqa: F401

# A real slapd with the AD-like entries, and the app configured to log in through it.
pytestmark = pytest.mark.usefixtures("directory")


def test_a_directory_user_logs_in_for_the_first_time_and_books_the_mandatory_training(
    page, db, make
):
    office = make.department("BA", name="Bürgeramt")
    course = make.course("IKK", title="Interkulturelle Kompetenz im Bürgerservice")
    rule = Requirement(
        name="Bürgerservice", first_due_date=local_today() + timedelta(days=20), courses=[course]
    )
    rule.audience = [AudienceRule(kind=AudienceKind.DEPARTMENT.value, department=office)]
    db.session.add(rule)
    db.session.commit()
    make.employee(office, first_name="Aylin", last_name="Demir", personnel_number="000123")
    course_session = make.course_session(course, capacity=5, location="Rathaus, Sitzungssaal")
    assert db.session.scalar(select(User.id)) is None  # no login yet: the directory makes it
    db.session.commit()  # an open transaction would hold SQLite's lock the served app needs

    page.goto("/auth/login")
    page.get_by_label("E-Mail-Adresse oder Benutzername").fill("ademir")
    page.get_by_label("Passwort", exact=True).fill(password_of("ademir"))
    page.get_by_role("button", name="Anmelden").click()

    requirements = page.get_by_role("region", name="Meine Pflichtschulungen")
    expect(requirements).to_contain_text("Bürgerservice")
    requirements.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("status")).to_contain_text("Sie sind angemeldet")
    expect(page.get_by_role("region", name="Meine Anmeldung")).to_contain_text("gebucht")

    db.session.expire_all()
    assert db.session.get(CourseSession, course_session.id).seats_taken == 1
    user = db.session.scalar(select(User))
    assert user.email == "aylin.demir@stadt.example" and not user.has_password

"""`flask seed-demo` loads a believable city once, and its demo logins work."""

from datetime import date

from sqlalchemy import func, select

from app.auth.models import User
from app.core.roles import Role
from app.courses.models import Completion, CourseSession, Enrolment, EnrolmentStatus
from app.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_demo_city
from app.staff import services as staff_services
from app.staff.models import Department, Employee


def test_seed_command_loads_the_city_once(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo city loaded" in first.output
    for _role, email in DEMO_LOGINS:
        assert email in first.output
    assert DEMO_PASSWORD in first.output

    departments = db.session.scalar(select(func.count(Department.id)))
    employees = db.session.scalar(select(func.count(Employee.id)))
    assert 25 <= departments <= 40
    assert 650 <= employees <= 750
    assert db.session.scalar(select(func.max(Department.depth))) == 2

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "not loaded" in second.output
    assert db.session.scalar(select(func.count(Employee.id))) == employees


def test_demo_city_is_consistent(db):
    seed_demo_city(db.session, today=date(2026, 11, 29))
    db.session.commit()
    # Seats taken match the booked enrolments of every session.
    booked = (
        select(Enrolment.session_id, func.count(Enrolment.id).label("n"))
        .where(
            Enrolment.status.in_(
                [
                    EnrolmentStatus.BOOKED.value,
                    EnrolmentStatus.ATTENDED.value,
                    EnrolmentStatus.NO_SHOW.value,
                ]
            )
        )
        .group_by(Enrolment.session_id)
        .subquery()
    )
    rows = db.session.execute(
        select(CourseSession.seats_taken, func.coalesce(booked.c.n, 0)).outerjoin(
            booked, booked.c.session_id == CourseSession.id
        )
    ).all()
    assert rows and all(taken == count for taken, count in rows)
    # Coverage differs visibly: some departments mostly trained, some mostly not.
    today = date(2026, 11, 29)
    shares = []
    for department in db.session.scalars(select(Department).where(Department.depth == 1)):
        ids = staff_services.subtree_ids([department])
        staff = db.session.scalar(
            select(func.count(Employee.id)).where(
                Employee.department_id.in_(ids), Employee.active.is_(True)
            )
        )
        trained = db.session.scalar(
            select(func.count(func.distinct(Completion.employee_id)))
            .join(Employee, Employee.id == Completion.employee_id)
            .where(
                Employee.department_id.in_(ids),
                Employee.active.is_(True),
                (Completion.valid_until.is_(None)) | (Completion.valid_until >= today),
            )
        )
        if staff:
            shares.append(trained / staff)
    assert max(shares) >= 0.8 and min(shares) <= 0.3
    # Every role has a login that works with the published password.
    for _label, email in DEMO_LOGINS:
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None and user.check_password(DEMO_PASSWORD)
    roles = set().union(*(u.roles for u in db.session.scalars(select(User))))
    assert roles == set(Role)
    # The "overdue" demo login shows a newcomer what an overdue training looks like.
    from app.requirements.status import people

    overdue_login = dict(DEMO_LOGINS)["Employee, overdue"]
    luca = db.session.scalar(select(User).where(User.email == overdue_login)).employee
    statuses = {
        p.status
        for p in people(
            db.session,
            roots=None,
            today=today,
            due_soon_days=30,
            statuses=["compliant", "due_soon", "overdue", "pending"],
            employee_id=luca.id,
        )
    }
    assert "overdue" in statuses


def test_demo_employee_can_log_in_and_sees_their_training(app, db, client, login):
    seed_demo_city(db.session)
    db.session.commit()
    employee_email = dict((label, email) for label, email in DEMO_LOGINS)["Employee"]
    assert login(employee_email, DEMO_PASSWORD).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Meine gebuchten Termine" in page or "gebucht" in page


def test_same_seed_and_day_give_the_same_city(db):
    """Pinned numbers: a change to the builder that moves a random draw shows up here."""
    from app.reports.models import CoverageSnapshot
    from app.requirements.models import Exemption, Requirement

    summary = seed_demo_city(db.session, seed=2026, today=date(2026, 11, 29))
    db.session.commit()
    assert (summary.departments, summary.employees, summary.courses) == (32, 700, 7)
    assert (summary.sessions, summary.completions, summary.users) == (44, 597, 8)

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    counts = {model.__name__: count(model) for model in (Enrolment, Requirement, Exemption)}
    assert counts == {"Enrolment": 471, "Requirement": 3, "Exemption": 8}
    assert count(CoverageSnapshot) == 756
    inactive = select(func.count(Employee.id)).where(Employee.active.is_(False))
    assert db.session.scalar(inactive) == 10
    numbered = {
        e.personnel_number: e.full_name
        for e in db.session.scalars(
            select(Employee).where(Employee.personnel_number.in_(["100001", "100452", "100700"]))
        )
    }
    assert numbered == {
        "100001": "Helen Owusu",  # the longest-serving
        "100452": "Luca Romano",  # the overdue demo login
        "100700": "Sebastian Friedrich",  # the newest starter
    }

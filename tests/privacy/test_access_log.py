"""Who viewed or downloaded whose training status is recorded, in one or two statements."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from app.core.audit import AccessEvent, AccessEventEmployee
from app.core.roles import Role
from app.extensions import db
from app.staff.models import Employee
from tests.requirements.test_pages import city  # noqa: F401  (the fixture)


def _events() -> list[tuple[str, str, str, set[int]]]:
    """(viewer, purpose, detail, employee ids) of every access event, oldest first."""
    db.session.expire_all()
    found = []
    for access in db.session.scalars(select(AccessEvent).order_by(AccessEvent.id)):
        ids = set(
            db.session.scalars(
                select(AccessEventEmployee.employee_id).where(
                    AccessEventEmployee.event_id == access.id
                )
            )
        )
        found.append((access.viewer, access.purpose, access.detail, ids))
    return found


def _ids(*last_names: str) -> set[int]:
    return set(db.session.scalars(select(Employee.id).where(Employee.last_name.in_(last_names))))


@contextmanager
def _access_log_writes():
    """Counts the statements that write the access log while the block runs."""
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT") and "access_event" in statement:
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield writes
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_heads_drill_down_records_the_people_shown_in_two_statements(
    client,
    login,
    make,
    city,  # noqa: F811
):
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(city["d3"],))
    login("leitung@stadt.example")
    with _access_log_writes() as writes:
        page = client.get("/reports/people", query_string={"department": "D3", "status": "overdue"})
    assert page.status_code == 200
    assert len(writes) == 2  # the event, then its people in one INSERT

    ((viewer, purpose, detail, ids),) = _events()
    assert (viewer, purpose) == ("leitung@stadt.example", "drilldown")
    assert "D3" in detail
    assert ids == _ids("Überfällig0", "Überfällig1", '=HYPERLINK("http://evil")')


def test_an_export_records_everyone_it_names_by_one_insert_select(
    client,
    login,
    make,
    city,  # noqa: F811
):
    make.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    login("hr@stadt.example")
    with _access_log_writes() as writes:
        response = client.get("/reports/people.csv")
        body = response.data  # the CSV streams; the access is recorded before it starts
    assert response.status_code == 200 and body
    assert len(writes) == 2
    assert any("SELECT" in statement for statement in writes)

    ((viewer, purpose, detail, ids),) = _events()
    assert (viewer, purpose) == ("hr@stadt.example", "export")
    assert detail.endswith(".csv")
    assert ids == set(db.session.scalars(select(Employee.id)))  # all 7 are in the file

    client.get("/reports/coverage.pdf")  # the PDF names only those who need to act
    *_, (_viewer, purpose, detail, ids) = _events()
    assert purpose == "export" and detail.endswith(".pdf")
    assert ids == _ids("Offen", "Überfällig0", "Überfällig1", '=HYPERLINK("http://evil")')


def test_the_staff_list_and_a_dates_participants_are_recorded(client, login, make, hr):
    course_session = make.course_session(capacity=5, starts_in=timedelta(days=3))
    anna, ben = make.employee(last_name="Anna"), make.employee(last_name="Ben")
    from app.auth.models import User
    from app.courses.services import enrolment

    enrolment.enrol(
        db.session,
        employee=anna,
        course_session=course_session,
        actor=db.session.get(User, hr.id),
    )
    db.session.commit()
    login("hr@stadt.example")
    assert client.get("/staff/employees").status_code == 200
    assert client.get(f"/courses/sessions/{course_session.id}").status_code == 200
    sheet = client.get(f"/courses/sessions/{course_session.id}/sign-in-sheet.pdf")
    assert sheet.status_code == 200

    listed, participants, signed = _events()
    assert listed[1:] == ("people_list", "/staff/employees", {anna.id, ben.id})
    assert participants[1:3] == ("participants", f"/courses/sessions/{course_session.id}")
    assert participants[3] == {anna.id}
    assert signed[1] == "sign_in_sheet" and signed[3] == {anna.id}


def test_a_page_showing_nobody_records_nothing(client, login, hr):
    login("hr@stadt.example")
    assert client.get("/staff/employees").status_code == 200
    assert _events() == []


def test_the_command_line_report_is_recorded_as_the_command(app, city):  # noqa: F811
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["coverage-report", "--format", "csv"])
    assert result.exit_code == 0, result.output

    ((viewer, purpose, detail, ids),) = _events()
    assert (viewer, purpose) == ("cli: coverage-report", "export")
    assert detail.endswith(".csv")
    assert ids == set(db.session.scalars(select(Employee.id)))


def test_a_heads_streamed_csv_still_reads_its_scope_after_the_access_is_recorded(
    client,
    login,
    make,
    city,  # noqa: F811
):
    make.user("leitung@stadt.example", roles=(Role.EMPLOYEE, Role.HEAD), heads=(city["d3"],))
    login("leitung@stadt.example")
    response = client.get("/reports/people.csv")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Überfällig0" in body and "Geschult0" not in body
    ((viewer, purpose, _detail, ids),) = _events()
    assert (viewer, purpose) == ("leitung@stadt.example", "export")
    assert ids == _ids("Überfällig0", "Überfällig1", '=HYPERLINK("http://evil")')

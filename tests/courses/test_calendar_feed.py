"""A person subscribes to their booked dates; the address is private, revocable and in sync."""

import re

from icalendar import Calendar
from sqlalchemy import select

from app.courses.models import CalendarFeed
from app.courses.services import catalogue, enrolment
from tests.conftest import csrf_token
from tests.courses.concurrent import post_at_once, tabs_of


def _enrol(client, course_session) -> None:
    path = f"/courses/sessions/{course_session.id}"
    response = client.post(f"{path}/enrol", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302


def _feed_address(client) -> str:
    token = csrf_token(client, "/courses/mine")
    assert client.post("/courses/mine/calendar", data={"csrf_token": token}).status_code == 302
    page = client.get("/courses/mine").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "feed-url" not in title and page.count('id="feed-url"') == 1
    found = re.search(r'id="feed-url" value="http://localhost(/courses/calendar/[^"]+\.ics)"', page)
    assert found, page
    return found.group(1)


def _events(app, address: str) -> dict[str, object]:
    response = app.test_client().get(address)  # a calendar app: no login, no cookie
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    assert response.headers["Cache-Control"] == "no-store"
    return {str(event["uid"]): event for event in Calendar.from_ical(response.data).walk("VEVENT")}


def test_the_feed_holds_my_booked_dates_with_the_invitations_uids(
    app, client, db, hr, login, make, staff_user
):
    mine, others, later_cancelled = (make.course_session() for _ in range(3))
    someone = make.user("someone@stadt.example")
    enrolment.enrol(db.session, employee=someone.employee, course_session=others, actor=someone)
    db.session.commit()
    login(staff_user.email)
    _enrol(client, mine)
    _enrol(client, later_cancelled)
    catalogue.cancel_session(db.session, later_cancelled, actor=hr, reason="Trainerin krank")
    db.session.commit()
    address = _feed_address(client)

    events = _events(app, address)
    invitation = Calendar.from_ical(
        client.get(f"/courses/sessions/{mine.id}/calendar.ics").data
    ).walk("VEVENT")[0]
    assert str(invitation["uid"]) in events
    assert events[str(invitation["uid"])]["status"] == "CONFIRMED"
    cancelled = [e for uid, e in events.items() if uid != str(invitation["uid"])]
    assert [str(e["status"]) for e in cancelled] == ["CANCELLED"]
    assert len(events) == 2  # not the date someone else booked
    assert all(f"course-session-{others.id}@" not in uid for uid in events)


def test_a_new_address_retires_the_old_one_and_ending_retires_both(
    app, client, login, make, staff_user
):
    login(staff_user.email)
    _enrol(client, make.course_session())
    first = _feed_address(client)
    second = _feed_address(client)
    anonymous = app.test_client()

    assert first != second
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    token = csrf_token(client, "/courses/mine")
    client.post("/courses/mine/calendar/stop", data={"csrf_token": token})
    assert anonymous.get(second).status_code == 404
    assert 'id="feed-url"' not in client.get("/courses/mine").get_data(as_text=True)


def test_a_guessed_or_borrowed_token_finds_nothing(app, client, login, make, staff_user):
    login(staff_user.email)
    address = _feed_address(client)
    feed_id, token = re.search(r"/calendar/(\d+)/([^/]+)\.ics", address).groups()
    anonymous = app.test_client()

    assert anonymous.get(f"/courses/calendar/{feed_id}/{token[:-1]}x.ics").status_code == 404
    assert anonymous.get(f"/courses/calendar/{int(feed_id) + 1}/{token}.ics").status_code == 404
    assert anonymous.get(f"/courses/calendar/{feed_id}/{token}.ics").status_code == 200


def test_clicking_create_or_end_many_times_at_once_leaves_one_answer_each(
    app, client, db, login, make, staff_user
):
    login(staff_user.email)
    token = csrf_token(client, "/courses/mine")
    tabs = tabs_of(client, app, 8)

    created = post_at_once(app, tabs, "/courses/mine/calendar", {"csrf_token": token})
    assert [r.status_code for r in created] == [302] * 8
    feeds = db.session.scalars(select(CalendarFeed)).all()
    assert [feed.employee_id for feed in feeds] == [staff_user.employee.id]
    assert app.test_client().get(_feed_address(client)).status_code == 200

    ended = post_at_once(app, tabs, "/courses/mine/calendar/stop", {"csrf_token": token})
    assert [r.status_code for r in ended] == [302] * 8
    db.session.expire_all()
    assert db.session.scalars(select(CalendarFeed)).all() == []

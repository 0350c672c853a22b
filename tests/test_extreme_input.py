"""No 500 from extreme input: every filter and every form of every role, driven with integers
beyond the database's range, impossible months and dates, far-future and year-1 dates, and NUL
bytes (which PostgreSQL refuses in text). Each gets a 4xx or a form error.

The pages, their forms and their fields are discovered from the app itself (its URL map and the
HTML it serves to each role), so a new form is covered without changing this test. One city is
seeded per role and shared by all examples; Hypothesis then draws values on top of a sweep that
puts each kind of extreme value into every field once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from app.core.roles import Role
from app.courses.services import enrolment
from app.requirements.models import AudienceKind, AudienceRule, Exemption, Requirement
from tests.factories import DEFAULT_PASSWORD

#: Query parameters the views read (grep request.args), tried on every page.
FILTER_PARAMETERS = (
    "page",
    "course",
    "requirement",
    "month",
    "department",
    "status",
    "q",
    "personnel_number",
    "kind",
    "language",
    "format",
    "next",
)
TOO_LARGE = ("2147483648", "-2147483649", "9223372036854775808", "1" + "0" * 30)
EXTREME = {
    "integer": TOO_LARGE,
    "month": ("0000-01", "0000-00", "9999-12", "10000-01", "2026-13"),
    "date": ("0001-01-01", "9998-12-31", "9999-12-31", "0000-01-01", "10000-01-01"),
    "datetime": ("0001-01-01T00:00", "9998-12-31T23:59", "9999-12-31T23:59", "0001-01-01T00:00:00"),
    "nul": ("\x00", "a\x00b", "1\x00"),
}
#: Endpoints left out: they end the test's own session or leave for another site.
SKIPPED = {"auth.logout", "auth.sso_login", "auth.sso_callback", "static"}
ROLES = {
    "hr": (Role.HR,),
    "head": (Role.EMPLOYEE, Role.HEAD),
    "admin": (Role.ADMIN,),
    "employee": (Role.EMPLOYEE,),
}

extreme_values = st.one_of(
    st.sampled_from([value for values in EXTREME.values() for value in values]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
    st.dates(min_value=date(1, 1, 1)).map(lambda d: d.isoformat()[:7]),
    st.dates(min_value=date(1, 1, 1)).map(lambda d: f"{d.isoformat()}T00:00"),
    st.text(max_size=12),
)


@dataclass
class Target:
    method: str
    path: str
    #: Field name -> the values the page offers (options of a select, a checkbox's value).
    fields: dict[str, list[str]] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class _Forms(HTMLParser):
    """The forms of a page: method, action, named fields and the values offered."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Target] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            method = attributes.get("method", "get").upper()
            self.forms.append(Target(method, attributes.get("action", "")))  # path set later
        elif not self.forms:
            return
        elif tag in ("input", "textarea", "select") and attributes.get("name"):
            name = attributes["name"]
            if attributes.get("type") == "file":
                return
            if attributes.get("type") == "hidden":
                self.forms[-1].hidden[name] = attributes.get("value", "")
                return
            offered = self.forms[-1].fields.setdefault(name, [])
            if attributes.get("value"):
                offered.append(attributes["value"])
            if tag == "select":
                self._select = name
        elif tag == "option" and self._select is not None:
            self.forms[-1].fields[self._select].append(attributes.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


@dataclass
class City:
    ids: dict[str, int]
    codes: dict[str, str]


def seed_city(db, make) -> City:
    """A small city with one of everything a page can be about."""
    top = make.department("D1", name="Dezernat I")
    office = make.department("D1-BA", name="Bürgeramt", parent=top)
    people = [make.employee(office, last_name=f"Muster{n}") for n in range(3)]
    course = make.course("IKK", title="Interkulturelle Kompetenz")
    course_session = make.course_session(course, starts_in=timedelta(days=20))
    make.course_session(course, starts_in=timedelta(days=40))  # where to move a booking
    requirement = Requirement(name="Basis", first_due_date=date(2026, 3, 1), courses=[course])
    requirement.audience = [AudienceRule(kind=AudienceKind.ALL.value)]
    db.session.add(requirement)
    exemption = Exemption(
        employee=people[1], requirement=requirement, reason="Elternzeit", starts_on=date(2026, 1, 1)
    )
    db.session.add(exemption)
    other = make.user("andere@stadt.example", employee=people[2])
    hr = make.user("hr@stadt.example", roles=ROLES["hr"], with_employee=False)
    make.user("leitung@stadt.example", roles=ROLES["head"], heads=(top,))
    make.user("admin@stadt.example", roles=ROLES["admin"], with_employee=False)
    make.user("employee@stadt.example", roles=ROLES["employee"], employee=people[0])
    booked = enrolment.enrol(
        db.session, employee=people[0], course_session=course_session, actor=hr
    )
    db.session.commit()
    return City(
        ids={
            "course_id": course.id,
            "session_id": course_session.id,
            "requirement_id": requirement.id,
            "exemption_id": exemption.id,
            "enrolment_id": booked.id,
            "user_id": other.id,
            "employee_id": people[0].id,
            "feed_id": 1,  # no such subscription or API client: a 404, and huge ids beside
            "client_id": 1,
        },
        codes={"code": "D1", "personnel_number": people[0].personnel_number},
    )


def discover(app, client, city: City) -> list[Target]:
    """Every page the role may open, with the filter parameters, and every form on them; and
    every route with an id, with ids beyond the database's range."""
    targets: list[Target] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        values = {}
        for name in rule.arguments:
            values[name] = city.ids.get(name, city.codes.get(name, "x"))
            if name == "file_format":
                allowed = getattr(rule._converters[name], "items", None)
                values[name] = min(allowed) if allowed else "csv"
        path = _build(app, rule.endpoint, values)
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                for huge in TOO_LARGE[1:]:
                    out_of_range = path.replace(f"/{values[name]}", f"/{huge}", 1)
                    targets += [
                        Target(method, out_of_range) for method in rule.methods & {"GET", "POST"}
                    ]
        if "GET" not in rule.methods:
            continue
        response = client.get(path)
        if response.status_code != 200:
            continue
        targets.append(Target("GET", path, {name: [] for name in FILTER_PARAMETERS}))
        if response.mimetype != "text/html":
            continue
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            form.path = urlsplit(form.path).path or path
            if form.path == "/auth/logout":
                continue
            targets.append(form)
    return targets


def _build(app, endpoint: str, values: dict) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def send(client, target: Target, values: dict[str, str]):
    if target.method == "GET":
        return client.get(target.path, query_string=values)
    return client.post(target.path, data={**target.hidden, **values})


def assert_no_server_error(client, target: Target, values: dict[str, str]) -> None:
    response = send(client, target, values)
    assert response.status_code < 500, f"{target} {values!r} -> {response.status_code}"


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_server_error_from_extreme_input(app, db, make, client, login, role):
    city = seed_city(db, make)
    assert (
        login(
            f"{'leitung' if role == 'head' else role}@stadt.example", DEFAULT_PASSWORD
        ).status_code
        == 302
    )
    targets = discover(app, client, city)
    assert len(targets) > 10

    # Every kind of extreme value in every field of every form and filter, once.
    for target in targets:
        for values in EXTREME.values():
            drawn = {name: values[n % len(values)] for n, name in enumerate(target.fields)}
            assert_no_server_error(client, target, drawn)

    # Then mixtures: valid choices beside extreme values, drawn by Hypothesis.
    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.data())
    def mixtures(data):
        target = data.draw(st.sampled_from(targets), label="target")
        drawn = {}
        for name, offered in target.fields.items():
            choices = st.sampled_from(offered) if offered else st.nothing()
            value = data.draw(st.one_of(extreme_values, choices) | st.just(""), label=name)
            drawn[name] = value
        assert_no_server_error(client, target, drawn)

    mixtures()

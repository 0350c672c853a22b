"""Schemathesis against the live OpenAPI document: every operation, called with generated
data and a token holding every scope, answers without a server error and as documented
(status, content type, headers and body schema); so do sequences of calls that follow the
document's links. Runs on both backends like the suite."""

from __future__ import annotations

import contextvars
from collections import Counter
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.core.roles import Role
from app.courses.models import Completion
from app.extensions import db
from tests import factories
from tests.api.conftest import bearer

# Every check of Schemathesis runs but one: "a schema-valid request is accepted". A batch
# that names an unknown department, or a person twice, matches the schema and is refused
# (422, rejected-rows) by the import's rules, which depend on the database.

#: Examples per operation: enough to reach every parameter, bounded so that both backends
#: take well under two minutes.
EXAMPLES = 50
#: Sequences of linked calls, and the most calls in one: about 600 calls in all.
SCENARIOS, STEPS = 100, 8


@pytest.fixture
def city(api_token):
    """A small city for the generated calls to find: two departments, people, completions."""
    top = factories.department("D1", name="Dezernat I")
    office = factories.department("FB1", name="Bürgeramt", parent=top)
    people = [factories.employee(office, personnel_number=f"{n:04d}") for n in range(1, 4)]
    course = factories.course("IKK")
    db.session.add(
        Completion(employee_id=people[0].id, course_id=course.id, completed_on=date(2026, 1, 15))
    )
    factories.user("hr@stadt.example", roles=(Role.HR,), with_employee=False)
    db.session.commit()
    return api_token()


def test_every_operation_answers_as_documented(app, city):
    """Each operation of the document in turn (the pytest plugin of Schemathesis 4.32 fails
    on pytest 9, so the operations' Hypothesis strategies are driven here)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case):
            db.session.commit()
            # Each call in a context of its own, as IsolatedClient does: its own app context.
            contextvars.Context().run(
                case.call_and_validate,
                headers=bearer(city),
                excluded_checks=[positive_data_acceptance],
            )

        call()
        tested.append(operation.label)
    document = app.test_client().get("/api/v1/openapi.json").json
    documented = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert set(tested) == documented and len(documented) == 8


def test_linked_calls_answer_as_documented(app, city):
    """Schemathesis' stateful testing: sequences of calls in which a call follows a link of
    the document from an earlier answer (a department written → its coverage and people and
    staff in it, a person → their completions, a page → the next page), each checked as
    above. Only the document's links (no inferred ones) and, as above, schema-valid data."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    schema.config.phases.stateful.inference.algorithms = []
    headers = bearer(city)
    followed: Counter[str] = Counter()  # "<source> -> [200] <link>" answered with a 200

    class LinkedCalls(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def call(self, case, **kwargs):
            db.session.commit()
            return contextvars.Context().run(case.call, **kwargs)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=[positive_data_acceptance],
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

        def step(self, input):
            output = super().step(input)
            answered = output.response.status_code == 200
            if input.transition is not None and input.is_applied and answered:
                source, link, _target = input.transition.id.split(" -> ")
                followed[f"{source} -> {link}"] += 1
            return output

    LinkedCalls.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            phases=[Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
    # The links were followed, from a write as from a list.
    from_a_batch = [name for name in followed if name.startswith("POST ")]
    next_pages = [name for name in followed if name.endswith("next_page")]
    assert from_a_batch and next_pages, followed

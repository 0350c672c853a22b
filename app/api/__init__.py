"""The integration API (``/api/v1``): HR systems, e-learning platforms and time recording
call it with a client's bearer token. See the README section "Integration API"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import Request
from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from app.api.problems import ApiProblem


class JsonBodyParser(FlaskParser):
    """webargs' parser, except for a body that is not JSON: webargs takes a body of another
    content type for a missing one (422) and answers unparsable JSON with Flask's 400 page.
    Both are the API's documented 400 ``not-json`` problem."""

    def load_json(self, req: Request, schema: Any) -> Any:
        if not is_json_request(req):
            raise ApiProblem(
                "not-json", "Send a JSON body with the header Content-Type: application/json."
            )
        try:
            return core.parse_json(req.get_data(cache=True))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ApiProblem("not-json", "The body is not valid JSON (UTF-8).") from error


class ApiBlueprint(Blueprint):
    """flask-smorest's blueprint with the API's body parser; each operation's ``operationId``
    is its view's name, by which links in the OpenAPI document name their target."""

    ARGUMENTS_PARSER = JsonBodyParser()

    def route(self, rule: str, **options: Any) -> Callable[[Any], Any]:
        register = super().route(rule, **options)

        def decorate(view: Any) -> Any:
            return register(self.doc(operationId=view.__name__)(view))

        return decorate


bp = ApiBlueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Departments, staff, completions, attendance and coverage.",
)
#: Pages for people: the readable documentation and the administrators' client list.
pages = FlaskBlueprint("api_pages", __name__, template_folder="templates")

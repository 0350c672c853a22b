"""The integration API (``/api/v1``): HR systems, e-learning platforms and time recording
call it with a client's bearer token. See the README section "Integration API"."""

from flask import Blueprint as FlaskBlueprint
from flask_smorest import Blueprint

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Departments, staff, completions, attendance and coverage.",
)
#: Pages for people: the readable documentation and the administrators' client list.
pages = FlaskBlueprint("api_pages", __name__, template_folder="templates")

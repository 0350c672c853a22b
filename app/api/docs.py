"""The API's readable documentation, rendered by the app from the generated OpenAPI document
(no script, nothing from a CDN: the Content-Security-Policy allows only this site). The page
speaks the reader's language; what the document says about each operation, field and problem
is English, as the API's answers are, and marked so (``lang="en"``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _

from app.api import pages
from app.api.models import Scope
from app.api.problems import KINDS, TYPE_BASE

METHODS = ("get", "post", "put", "patch", "delete")


@pages.route("/api/v1/docs")
def docs():
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "anchor": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
            **operation,
        }
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=operations,
        by_id={op["operationId"]: op for op in operations if "operationId" in op},
        schemas=spec.get("components", {}).get("schemas", {}),
        problems=KINDS,
        type_base=TYPE_BASE,
        scopes=[scope.value for scope in Scope],
        type_of=type_of,
    )


def type_of(schema: dict[str, Any]) -> str:
    """A property's type in words: ``string (date)``, ``array of StaffItem``, ``… or null``
    (JSON's type names as they are, the words around them in the reader's language)."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type", "object")
    kinds = kind if isinstance(kind, list) else [kind]
    text = ""
    for one in kinds:
        if one == "array":
            word = _("array of %(type)s", type=type_of(schema.get("items", {})))
        elif one == "null":
            continue
        else:
            word = one + (f" ({schema['format']})" if "format" in schema else "")
        text = _("%(first)s or %(second)s", first=text, second=word) if text else word
    text = text or _("any type")
    return _("%(first)s or %(second)s", first=text, second="null") if "null" in kinds else text

"""The API's readable documentation, rendered by the app from the generated OpenAPI document
(no script, nothing from a CDN: the Content-Security-Policy allows only this site)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

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
        schemas=spec.get("components", {}).get("schemas", {}),
        problems=KINDS,
        type_base=TYPE_BASE,
        scopes=[scope.value for scope in Scope],
        type_of=type_of,
    )


def type_of(schema: dict[str, Any]) -> str:
    """A property's type in words: ``string (date)``, ``array of StaffItem``, ``… or null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type", "object")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for one in kinds:
        if one == "array":
            words.append(f"array of {type_of(schema.get('items', {}))}")
        elif one == "null":
            continue
        else:
            words.append(one + (f" ({schema['format']})" if "format" in schema else ""))
    text = " or ".join(words) or "any"
    return text + (" or null" if "null" in kinds else "")

"""The OpenAPI document, generated from the schemas and handler docstrings, and its docs page."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template

from backend.api import schemas

bp = Blueprint("openapi", __name__)

def documented_endpoints(app: Flask) -> list[str]:
    """Every handler whose docstring carries an OpenAPI operation (a `---` YAML part)."""
    return sorted(name for name, view in app.view_functions.items()
                  if "\n---\n" in (view.__doc__ or "").replace("    ---", "---"))


OVERVIEW = (
    "Report broken traffic lights and street signs to the city.\n\n"
    "Open311 GeoReport v2 is served under `/open311/v2/` (its own format, not described "
    "here; see the README). Extensions there: `extensions=true` on `requests` adds "
    "`extended_attributes`, among them `asset` — the asset (traffic signal, sign post) the "
    "request is about, in the same shape as `asset` everywhere in this API, or null; and "
    "`approximate` — true when the reporter chose only a district, so `lat`/`long` are the "
    "district's, not the defect's (the address/description says where); `outcome` — how a "
    "closed request ended (`fixed`, `not_fixed`, `not_responsible`, `duplicate`) and "
    "`responsible` — who is responsible when it is not the city's (`{name, url}`, also named "
    "in `status_notes`); a POST "
    "to `requests` may name one with `attribute[asset_id]=<id>` (an active asset of a type "
    "tied to the service's category group, else 400 naming `attribute[asset_id]`); the "
    "service definitions of such services list `asset_id` as an optional `number` "
    "attribute.")


def build_spec(app: Flask) -> dict[str, Any]:
    """Generate the OpenAPI 3 document for the citizen, staff, analytics and open-data API."""
    spec = APISpec(
        title="Mängelmelder API",
        version="1",
        openapi_version="3.0.3",
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
        info={"description": OVERVIEW},
    )
    spec.components.schema("Error", schema=schemas.ErrorSchema)
    spec.components.response("Error", {
        "description": "The error envelope; `fields` names every offending field.",
        "content": {"application/json": {"schema": "Error"}},
    })
    with app.test_request_context():
        for endpoint in documented_endpoints(app):
            spec.path(view=app.view_functions[endpoint], app=app)
    return _with_path_parameters(spec.to_dict())


def _with_path_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """Declare every `{name}` of a path on its operations (as a string) unless declared."""
    for path, operations in document.get("paths", {}).items():
        names = re.findall(r"{(\w+)}", path)
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            declared = {p.get("name") for p in operation.get("parameters", [])
                        if p.get("in") == "path"}
            operation.setdefault("parameters", [])[:0] = [
                {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
                for name in names if name not in declared]
    return document


@bp.get("/api/v1/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document."""
    return jsonify(current_app.extensions["mm_openapi"])


@bp.get("/api/docs")
def docs_page() -> str:
    """A readable page of the API, rendered here (no third-party scripts)."""
    return render_template("api_docs.html", spec=current_app.extensions["mm_openapi"])

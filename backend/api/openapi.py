"""The OpenAPI document, generated from the schemas and handler docstrings, and its docs page."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template

from backend.api import schemas

bp = Blueprint("openapi", __name__)

DOCUMENTED_ENDPOINTS = (
    "categories.list_categories",
    "reports.create_report",
    "reports.list_reports",
    "reports.nearby_reports",
    "reports.get_report",
    "reports.add_photos",
    "tracking.track",
    "tracking.add_push_subscription",
    "tracking.answer_fixed",
    "tracking.push_public_key",
    "tracking.follow",
)


def build_spec(app: Flask) -> dict[str, Any]:
    """Generate the OpenAPI 3 document for the citizen API."""
    spec = APISpec(
        title="Mängelmelder API",
        version="1",
        openapi_version="3.0.3",
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
        info={"description": "Report broken traffic lights and street signs to the city."},
    )
    spec.components.schema("Error", schema=schemas.ErrorSchema)
    spec.components.response("Error", {
        "description": "The error envelope; `fields` names every offending field.",
        "content": {"application/json": {"schema": "Error"}},
    })
    with app.test_request_context():
        for endpoint in DOCUMENTED_ENDPOINTS:
            spec.path(view=app.view_functions[endpoint], app=app)
    return spec.to_dict()


@bp.get("/api/v1/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document."""
    return jsonify(current_app.extensions["mm_openapi"])


@bp.get("/api/docs")
def docs_page() -> str:
    """A readable page of the API, rendered here (no third-party scripts)."""
    return render_template("api_docs.html", spec=current_app.extensions["mm_openapi"])

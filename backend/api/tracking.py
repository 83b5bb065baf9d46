"""The reporter's own view, reached with the secret tracking token."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from backend.api.context import session, settings, snapshot
from backend.api.presenters import report_view, uploaded_photo
from backend.api.request_io import request_locale
from backend.api.schemas import TrackedReportSchema
from backend.services import reports

bp = Blueprint("tracking", __name__, url_prefix="/api/v1")

# Schemas are built once: instantiating them per request costs more than using them.
TRACKED_REPORT_SCHEMA = TrackedReportSchema()


@bp.get("/track/<token>")
def track(token: str) -> Response:
    """A reporter's view of their report.
    ---
    get:
      summary: The reporter's own view of their report
      parameters:
        - {in: path, name: token, required: true, schema: {type: string}}
      responses:
        200:
          description: The report as the reporter sees it
          content:
            application/json:
              schema: TrackedReportSchema
        404: {$ref: '#/components/responses/Error'}
    """
    report, lon, lat = reports.get_report_by_token(session(), token)
    view = report_view(report, lon, lat, snapshot(), request_locale(), settings().base_url)
    view["email_on_file"] = report.reporter_email is not None
    view["uploads"] = [uploaded_photo(p) for p in report.photos]
    response = jsonify(TRACKED_REPORT_SCHEMA.dump(view))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

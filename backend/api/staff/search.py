"""Staff search: GET /api/v1/staff/search?q=… (thin: the search service decides)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from marshmallow import EXCLUDE, Schema, fields, validate

from backend.api.context import session
from backend.api.docs import operation
from backend.api.request_io import load
from backend.api.staff.queue_features import queue_features
from backend.api.staff.session import staff_user
from backend.models.base import utcnow
from backend.services.search.staff import MAX_QUERY, staff_search

bp = Blueprint("staff_search", __name__)


class StaffSearchQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(required=True, validate=validate.Length(1, MAX_QUERY), metadata={
        "description": "A report number, a tracking link, words of the description or address, "
                       "or a reporter's e-mail address (own departments only, audited)."})
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 50))


QUERY = StaffSearchQuery()


@bp.get("/search")
@operation("get", "Reports the caller may see that match `q`, newest first, across statuses "
           "(GeoJSON like the queue; `kind`: number, tracking, email or words)",
           tag="staff", query="StaffSearchQuery")
def search() -> Response:
    """Search reports."""
    user = staff_user()
    query = load(QUERY, request.args)
    found = staff_search(session(), user, query["q"], query["limit"])
    response = jsonify({"type": "FeatureCollection", "kind": found.kind, "more": found.more,
                        "features": queue_features(found.rows, utcnow())})
    response.headers["Cache-Control"] = "private, no-store"
    return response

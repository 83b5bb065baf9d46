"""Staff search: GET /api/v1/staff/search?q=… (thin: the search service decides)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from marshmallow import EXCLUDE, Schema, fields, validate

from backend.api.context import session, settings, snapshot
from backend.api.docs import operation
from backend.api.request_io import load, request_locale
from backend.api.staff.presenters import queue_feature
from backend.api.staff.session import staff_user
from backend.models.base import utcnow
from backend.services.search.staff import MAX_QUERY, staff_search
from backend.services.staff import queue as staff_queue

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
    rows = found.rows
    snap, now = snapshot(), utcnow()
    people = staff_queue.assignees(session(), {r.assigned_to_id for r in rows
                                               if r.assigned_to_id})
    thumbs = staff_queue.queue_thumbnails(session(), rows)
    assets = staff_queue.queue_assets(session(), rows)
    locale, base = request_locale(), settings().base_url
    response = jsonify({
        "type": "FeatureCollection", "kind": found.kind, "more": found.more,
        "features": [queue_feature(r, snap, locale, base, now, people.get(r.assigned_to_id),
                                   thumbs.get(r.id), None,
                                   assets.get(r.asset_id) if r.asset_id else None)
                     for r in rows],
    })
    response.headers["Cache-Control"] = "private, no-store"
    return response

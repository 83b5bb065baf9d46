"""Admins see what could not be delivered (forwardings, push, e-mail) with the last error,
the destinations whose circuit is open, and retry a failed item (thin: services decide)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from backend.api.context import session
from backend.api.docs import operation
from backend.api.staff.session import staff_user
from backend.services.destinations import admin as destinations

bp = Blueprint("staff_deliveries", __name__, url_prefix="/api/v1/admin/deliveries")


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/failed")
@operation("get", "Failed forwardings and notifications, newest first, with their last error "
           "(admins)", tag="admin", errors=(401, 403))
def failed() -> Response:
    """Failed items."""
    return _private(jsonify({"items": destinations.failed_items(session(), staff_user())}))


@bp.get("/circuits")
@operation("get", "Destinations that failed lately and the state of their circuit (admins)",
           tag="admin", errors=(401, 403))
def circuits() -> Response:
    """Destination circuits."""
    return _private(jsonify({"circuits": destinations.circuit_list(session(), staff_user())}))


@bp.post("/failed/<kind>/<int:item_id>/retry")
@operation("post", "Retry a failed item: pending again, attempts from zero (admins)",
           tag="admin", errors=(401, 403, 404, 409))
def retry(kind: str, item_id: int) -> Response:
    """Retry one failed item."""
    return _private(jsonify(destinations.retry(session(), staff_user(), kind, item_id)))

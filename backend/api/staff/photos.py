"""Staff moderation of a report's photos, and the audited private preview of an original
(thin: `backend.services.moderation` decides). Mounted inside the staff reports blueprint."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

from backend.api.context import jobs, session, settings, storage
from backend.api.docs import operation
from backend.api.request_io import idempotency_key, json_body, load
from backend.api.staff.photo_view import staff_photo_view
from backend.api.staff.session import staff_user
from backend.errors import NotFound
from backend.services.moderation import photos as moderation
from backend.services.moderation.preview import private_preview
from backend.services.staff import detail as report_detail

bp = Blueprint("staff_photos", __name__, url_prefix="/reports/<report_id>/photos/<photo_id>")

FRACTION = validate.Range(min=0.0, max=1.0)


class EmptySchema(Schema):
    class Meta:
        unknown = RAISE


class RotateSchema(Schema):
    class Meta:
        unknown = RAISE

    degrees = fields.Integer(required=True, strict=True, validate=validate.OneOf((90, 180, 270)),
                             metadata={"description": "clockwise turn: 90, 180 or 270"})


class RegionSchema(Schema):
    """A box to hide, as fractions (0–1) of the photo as it is shown (turned)."""

    class Meta:
        unknown = RAISE

    x = fields.Float(required=True, validate=FRACTION)
    y = fields.Float(required=True, validate=FRACTION)
    width = fields.Float(required=True, validate=FRACTION)
    height = fields.Float(required=True, validate=FRACTION)


EMPTY, ROTATE, REGION = EmptySchema(), RotateSchema(), RegionSchema()


def _body(schema: Schema) -> dict[str, Any]:
    return load(schema, json_body() if request.content_length else {})


def _answer(result: moderation.PhotoResult) -> Response:
    """The photo's state after the action: 202 while its re-render is queued."""
    view = report_detail.staff_report(session(), staff_user(), result.report_id)
    [photo] = [p for p in view.report.photos if p.public_id == result.photo_id] or [None]
    if photo is None:
        raise NotFound("The report has no photo with this id.", {"photo": ["not found"]})
    response = jsonify({"report": result.report_id, "rerender_queued": result.rerender,
                        "photo": staff_photo_view(photo, result.report_id,
                                                  settings().base_url, view.photos_public)})
    response.status_code = 202 if result.rerender else 200
    response.headers["Cache-Control"] = "private, no-store"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _doc(summary: str, method: str = "post") -> Any:
    return operation(method, summary + " (dispatchers and admins; audited)", tag="staff",
                     ok={200: "Done", 202: "Done; the public copies are rendered again"},
                     errors=(401, 403, 404, 409, 422),
                     headers=("Idempotency-Key", "X-CSRF-Token"))


@bp.get("/preview")
@operation("get", "The photo's private original at display size, turned, NOT redacted, "
           "without metadata (dispatchers and admins; every view audited)", tag="staff",
           ok={200: "image/jpeg"}, errors=(401, 403, 404))
def preview(report_id: str, photo_id: str) -> Response:
    """The private preview of a photo's original."""
    data = private_preview(session(), storage(), staff_user(), report_id, photo_id)
    return Response(data, mimetype="image/jpeg", headers={
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


@bp.post("/hide")
@_doc("Hide the photo from every public view and file")
def hide(report_id: str, photo_id: str) -> Response:
    user = staff_user()
    _body(EMPTY)
    return _answer(moderation.hide(session(), user, report_id, photo_id,
                                   key=idempotency_key()))


@bp.post("/unhide")
@_doc("Show a hidden photo publicly again (its redacted copies)")
def unhide(report_id: str, photo_id: str) -> Response:
    user = staff_user()
    _body(EMPTY)
    return _answer(moderation.unhide(session(), user, report_id, photo_id,
                                     key=idempotency_key(), jobs=jobs()))


@bp.post("/rotate")
@_doc("Turn the photo clockwise: `{\"degrees\": 90|180|270}`")
def rotate(report_id: str, photo_id: str) -> Response:
    user = staff_user()
    data = _body(ROTATE)
    return _answer(moderation.rotate(session(), user, report_id, photo_id, data["degrees"],
                                     key=idempotency_key(), jobs=jobs()))


@bp.post("/regions")
@_doc("Hide one more area: `{x, y, width, height}` as fractions (0–1) of the turned photo")
def add_region(report_id: str, photo_id: str) -> Response:
    user = staff_user()
    data = _body(REGION)
    box = (data["x"], data["y"], data["width"], data["height"])
    return _answer(moderation.add_region(session(), user, report_id, photo_id, box,
                                         key=idempotency_key(), jobs=jobs()))


@bp.delete("/regions/<int:index>")
@_doc("Drop a staff region (needs the original)", "delete")
def remove_region(report_id: str, photo_id: str, index: int) -> Response:
    user = staff_user()
    return _answer(moderation.remove_region(session(), storage(), user, report_id, photo_id,
                                            index, key=idempotency_key(), jobs=jobs()))


@bp.post("/restore")
@_doc("Back to the automatic redaction: no staff regions, no rotation (needs the original)")
def restore(report_id: str, photo_id: str) -> Response:
    user = staff_user()
    _body(EMPTY)
    return _answer(moderation.restore(session(), storage(), user, report_id, photo_id,
                                      key=idempotency_key(), jobs=jobs()))


@bp.post("/release")
@_doc("Try a withheld photo again; it is public only once its redaction succeeded")
def release(report_id: str, photo_id: str) -> Response:
    user = staff_user()
    _body(EMPTY)
    return _answer(moderation.release(session(), storage(), user, report_id, photo_id,
                                      key=idempotency_key(), jobs=jobs()))

"""The staff queue, the full report view and every staff action (thin: services decide)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

from backend.api.context import jobs, session, settings, snapshot, storage
from backend.api.docs import operation
from backend.api.outcome_schemas import ResponsibleInputSchema
from backend.api.query_schemas import StaffQueueQuery, encode_offset
from backend.api.request_io import form_body, idempotency_key, json_body, load, request_locale
from backend.api.staff import desk as staff_desk
from backend.api.staff import photos as staff_photos
from backend.api.staff import search as staff_search
from backend.api.staff import templates as staff_templates
from backend.api.staff.presenters import asset_history_view, staff_report_view
from backend.api.staff.queue_features import queue_features
from backend.api.staff.session import staff_user
from backend.errors import InvalidInput, NotFound, UnsupportedMediaType
from backend.models.base import utcnow
from backend.services.staff import actions
from backend.services.staff import assets as staff_assets
from backend.services.staff import detail as report_detail
from backend.services.staff import queue as staff_queue
from backend.services.staff.actions import ActionResult, AfterPhoto
from backend.services.staff.queue import QueueFilter
from backend.workflow import expand_status_filter

bp = Blueprint("staff_reports", __name__, url_prefix="/api/v1/staff")
bp.register_blueprint(staff_photos.bp)  # photo moderation: /reports/<id>/photos/<id>/…
bp.register_blueprint(staff_search.bp)  # /search
bp.register_blueprint(staff_templates.staff_bp)  # /reports/<id>/templates
bp.register_blueprint(staff_desk.bp)  # POST /reports: on behalf of a caller

QUEUE_QUERY = StaffQueueQuery()
NOTE = fields.String(load_default=None, validate=validate.Length(max=4000))


class StatusSchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(required=True)
    public_note = NOTE
    internal_note = NOTE
    reason = fields.String(load_default=None)
    duplicate_of = fields.String(load_default=None, validate=validate.Length(max=16))
    responsible = fields.Nested(ResponsibleInputSchema, load_default=None, allow_none=True)


class AssignSchema(Schema):
    class Meta:
        unknown = RAISE

    username = fields.String(required=True, allow_none=True, validate=validate.Length(max=64))


class ForwardSchema(Schema):
    class Meta:
        unknown = RAISE

    department = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = fields.String(required=True, validate=validate.Length(max=2000))


class DuplicateSchema(Schema):
    class Meta:
        unknown = RAISE

    of = fields.String(required=True, validate=validate.Length(min=1, max=16))
    public_note = NOTE


class NoteSchema(Schema):
    class Meta:
        unknown = RAISE

    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class AssetChangeSchema(Schema):
    class Meta:
        unknown = RAISE

    asset_id = fields.Integer(required=True, allow_none=True, strict=True, metadata={
        "description": "The asset the report is about, or null for none"})


class EmptySchema(Schema):
    class Meta:
        unknown = RAISE


class ResolveFormSchema(Schema):
    class Meta:
        unknown = RAISE

    public_note = fields.String(required=True, validate=validate.Length(min=1, max=4000))


SCHEMAS = {name: cls() for name, cls in (
    ("status", StatusSchema), ("assign", AssignSchema), ("forward", ForwardSchema),
    ("duplicate", DuplicateSchema), ("note", NoteSchema), ("empty", EmptySchema),
    ("asset", AssetChangeSchema),
    ("resolve", ResolveFormSchema))}


def _codes_to_ids(codes: list[str] | None, known: dict[str, int], field: str
                  ) -> frozenset[int] | None:
    if codes is None:
        return None
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput("Unknown codes.", {field: [f"unknown: {', '.join(unknown)}"]})
    return frozenset(known[c] for c in codes)


@bp.get("/queue")
@operation("get", "Reports to work on (GeoJSON; `properties.asset`: AssetRef or null), for "
           "the caller's departments",
           tag="staff", query="StaffQueueQuery")
def queue() -> Response:
    """The work queue."""
    user = staff_user()
    query = load(QUEUE_QUERY, request.args)
    snap = snapshot()
    categories = {code: c.id for code, c in snap.categories.items()}
    departments = {d.code: d.id for d in snap.departments_by_id.values()}
    statuses = expand_status_filter(query["status"] or ["open"])
    flt = QueueFilter(
        bbox=query["bbox"], statuses=frozenset(s.value for s in statuses),
        category_ids=_codes_to_ids(query["category"], categories, "category"),
        department_ids=_codes_to_ids(query["department"], departments, "department"),
        sort=query["sort"], near=query["near"], limit=query["limit"], offset=query["offset"])
    now = utcnow()
    rows, next_offset = staff_queue.staff_queue(session(), user, flt, now)
    response = jsonify({
        "type": "FeatureCollection",
        "features": queue_features(rows, now, flt.near),
        "next_cursor": encode_offset(next_offset) if next_offset is not None else None,
    })
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _detail(public_id: str) -> Response:
    view = report_detail.staff_report(session(), staff_user(), public_id)
    response = jsonify(staff_report_view(view, snapshot(), request_locale(),
                                         settings().base_url, utcnow()))
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/reports/<public_id>")
@operation("get", "A report with all photos, the full history, notes, its asset "
           "(AssetRef or null) and allowed actions",
           tag="staff", errors=(401, 404))
def detail(public_id: str) -> Response:
    """One report for staff."""
    return _detail(public_id)


@bp.get("/reports/<public_id>/reporter")
@operation("get", "The reporter's e-mail, for staff of the assigned department (audited)",
           tag="staff", errors=(401, 403, 404))
def reporter(public_id: str) -> Response:
    """The reporter's e-mail (audited)."""
    response = jsonify(actions.reporter_contact(session(), staff_user(), public_id))
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer(result: ActionResult) -> Response:
    try:
        response = _detail(result.public_id)
    except NotFound:
        # Forwarded out of the caller's departments: done, but no longer theirs to see.
        response = jsonify({"id": result.public_id, "visible": False})
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _body(name: str) -> dict[str, Any]:
    return load(SCHEMAS[name], json_body() if request.content_length else {})


def _doc(summary: str) -> Any:
    return operation("post", summary, tag="staff", errors=(401, 403, 404, 409, 422),
                     headers=("Idempotency-Key", "X-CSRF-Token"))


@bp.post("/reports/<public_id>/claim")
@_doc("Assign the report to me")
def claim(public_id: str) -> Response:
    user = staff_user()
    _body("empty")
    return _answer(actions.claim(session(), user, public_id, key=idempotency_key(),
                                       jobs=jobs()))


@bp.post("/reports/<public_id>/assign")
@_doc("Assign the report to someone (dispatchers and admins)")
def assign(public_id: str) -> Response:
    user = staff_user()
    data = _body("assign")
    return _answer(actions.assign(session(), user, public_id, data["username"],
                                        key=idempotency_key(), jobs=jobs()))


@bp.post("/reports/<public_id>/status")
@_doc("Move the report through the workflow")
def status(public_id: str) -> Response:
    user = staff_user()
    data = _body("status")
    return _answer(actions.change_status(session(), user, public_id, **data,
                                               key=idempotency_key(), jobs=jobs()))


@bp.post("/reports/<public_id>/resolve")
@_doc("Resolve with a public note and an optional after photo (multipart)")
def resolve(public_id: str) -> Response:
    user = staff_user()
    cfg = settings()
    if request.mimetype == "multipart/form-data":
        fields_, files = form_body("photo", cfg.photo_max_bytes)
    elif request.mimetype == "application/json":
        fields_, files = json_body(), []
    else:
        raise UnsupportedMediaType("Send multipart/form-data (or JSON without a photo).",
                                   {"Content-Type": ["expected multipart/form-data"]})
    data = load(SCHEMAS["resolve"], fields_)
    if len(files) > 1:
        raise InvalidInput("One after photo per resolve.", {"photo": ["at most one file"]})
    photo = AfterPhoto(files[0], cfg.photo_max_bytes, cfg.photo_max_pixels) if files else None
    return _answer(actions.resolve(session(), storage(), user, public_id,
                                         public_note=data["public_note"], photo=photo,
                                         key=idempotency_key(), jobs=jobs()))


@bp.post("/reports/<public_id>/forward")
@_doc("Forward a misrouted report to another department")
def forward(public_id: str) -> Response:
    user = staff_user()
    data = _body("forward")
    return _answer(actions.forward(session(), user, public_id, **data,
                                         key=idempotency_key(), jobs=jobs()))


@bp.post("/reports/<public_id>/duplicate")
@_doc("Mark the report as a duplicate of another")
def duplicate(public_id: str) -> Response:
    user = staff_user()
    data = _body("duplicate")
    return _answer(actions.mark_duplicate(session(), user, public_id, **data,
                                                key=idempotency_key(), jobs=jobs()))


@bp.post("/reports/<public_id>/notes")
@_doc("Add an internal note")
def note(public_id: str) -> Response:
    user = staff_user()
    data = _body("note")
    return _answer(actions.add_note(session(), user, public_id, text=data["text"],
                                          key=idempotency_key(), jobs=jobs()))


@bp.put("/reports/<public_id>/asset")
@operation("put", "Correct the asset (signal, sign post) a report is about: "
           "`{\"asset_id\": int|null}`, an active asset of a type tied to the category's "
           "group, or null for none (dispatchers and admins; audited)", tag="staff",
           errors=(401, 403, 404, 409, 422), headers=("Idempotency-Key", "X-CSRF-Token"))
def correct_asset(public_id: str) -> Response:
    """Correct the report's asset."""
    user = staff_user()
    data = load(SCHEMAS["asset"], json_body())
    return _answer(staff_assets.correct_asset(session(), user, public_id, data["asset_id"],
                                              key=idempotency_key(), jobs=jobs()))


@bp.get("/assets/<int:asset_id>/reports")
@operation("get", "An asset and every report about it the caller may see (any status, newest "
           "first; with created, resolved and closed times and hours to fix)", tag="staff",
           errors=(401, 403, 404))
def asset_reports(asset_id: str) -> Response:
    """The report history of one asset."""
    asset, reports = staff_assets.asset_history(session(), staff_user(), int(asset_id))
    response = jsonify(asset_history_view(asset, reports, snapshot(), request_locale()))
    response.headers["Cache-Control"] = "private, no-cache"
    return response

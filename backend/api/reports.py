"""Public report endpoints: create, read, list on the map, and the 'already reported?' search."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from backend.api.context import (
    jobs,
    map_index,
    photo_limits,
    primary_read_session,
    primary_reader,
    reader,
    session,
    settings,
    snapshot,
    storage,
)
from backend.api.fragment_answers import (
    current_expansion,
    etag,
    fragment_answer,
    not_modified,
)
from backend.api.presenters import uploaded_photo
from backend.api.query_schemas import NearbyQuery, ReportListQuery, encode_cursor
from backend.api.rate_limits import limiter, photos_limit, reports_limit
from backend.api.request_io import (
    idempotency_key,
    load,
    photo_uploads,
    report_body,
    reporter_locale,
)
from backend.api.schemas import (
    ReportCreateSchema,
    UploadedPhotoSchema,
    UploadedPhotosSchema,
)
from backend.errors import InvalidInput
from backend.jsonout import safe_json
from backend.services import report_queries, reports, submissions
from backend.services.city_cache import CitySnapshot, last_snapshot
from backend.services.public_map.pages import PageFilter
from backend.services.public_map.points import micros_or_none
from backend.services.public_views import read as public_read
from backend.services.public_views.render import report_path, with_distance
from backend.services.routing import active_category
from backend.services.submissions import submit_report
from backend.workflow import expand_status_filter

bp = Blueprint("reports", __name__, url_prefix="/api/v1")

# Schemas are built once: instantiating them per request costs more than using them.
REPORT_CREATE_SCHEMA = ReportCreateSchema()
UPLOADED_PHOTO_SCHEMA = UploadedPhotoSchema()
REPORT_LIST_QUERY_SCHEMA = ReportListQuery()
NEARBY_QUERY_SCHEMA = NearbyQuery()
UPLOADED_PHOTOS_SCHEMA = UploadedPhotosSchema()

def _load_new_report(body: dict) -> tuple[dict, CitySnapshot]:
    """Validate the body; an unknown category is reported together with every other field.

    Returns the data and the city snapshot it was checked against (the insert re-verifies it).
    """
    problems: dict = {}
    snap = last_snapshot(session())
    code = body.get("category")
    if isinstance(code, str) and code.strip():
        try:
            active_category(snap, code.strip())
        except InvalidInput:
            snap = snapshot()  # perhaps added a moment ago: ask the database before refusing
            try:
                active_category(snap, code.strip())
            except InvalidInput as exc:
                problems.update(exc.fields)
    try:
        data = load(REPORT_CREATE_SCHEMA, body)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, {**exc.fields, **problems}) from exc
    if problems:
        raise InvalidInput("Some fields are missing or invalid.", problems)
    return data, snap


@bp.post("/reports")
@limiter.limit(reports_limit)
def create_report() -> tuple[Response, int]:
    """Create a report.
    ---
    post:
      summary: Report a defect
      description: >
        Routed by district and category. Send an `Idempotency-Key` so that a retry (e.g. from
        an offline outbox) returns the first report instead of creating a second one.
      parameters:
        - in: header
          name: Idempotency-Key
          schema: {type: string, maxLength: 128}
      requestBody:
        required: true
        content:
          application/json:
            schema: ReportCreateSchema
          multipart/form-data:
            schema:
              allOf:
                - $ref: '#/components/schemas/ReportCreate'
                - type: object
                  properties:
                    photos:
                      type: array
                      maxItems: 3
                      items: {type: string, format: binary}
                      description: JPEG, PNG, WebP or HEIC, each at most 15 MB
      responses:
        201:
          description: Stored and routed (also for a replayed Idempotency-Key)
          content:
            application/json:
              schema: CreatedReportSchema
        400: {$ref: '#/components/responses/Error'}
        409: {$ref: '#/components/responses/Error'}
        413: {$ref: '#/components/responses/Error'}
        415: {$ref: '#/components/responses/Error'}
        422: {$ref: '#/components/responses/Error'}
    """
    key = idempotency_key()
    cfg = settings()
    body, uploads = report_body("photos", cfg.photo_max_bytes)
    data, snap = _load_new_report(body)
    locale = reporter_locale()  # the language notifications go out in
    if uploads:
        result = submit_report(
            session(), storage(), jobs(), reports.NewReport(**data), uploads, photo_limits(),
            secret_key=cfg.secret_key, idempotency_key=key, locale=locale, snapshot=snap,
        )
    else:  # the hot path: no photos, no storage
        result = reports.create_report(
            session(), reports.NewReport(**data), secret_key=cfg.secret_key,
            idempotency_key=key, locale=locale, snapshot=snap,
        )
    expand, _ = current_expansion()
    detail = (result.views.detail if result.views is not None else
              public_read.by_report_id(session(), result.report.id, "detail").encode())
    token = result.tracking_token
    extra = safe_json({
        "uploads": [UPLOADED_PHOTO_SCHEMA.dump(uploaded_photo(p))
                    for p in (result.photos or result.report.photos)],
        "tracking_token": token,
        "tracking_url": f"{cfg.base_url}/api/v1/track/{token}",
    })
    response = fragment_answer(expand(detail)[:-1] + b"," + extra[1:], None,
                               cache_control="no-store")
    response.headers["Location"] = f"{cfg.base_url}{report_path(result.report.public_id)}"
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


@bp.get("/reports/<public_id>")
def get_report(public_id: str) -> Response:
    """One report, public view.
    ---
    get:
      summary: A report's public view (never the reporter's e-mail or token)
      parameters:
        - {in: path, name: public_id, required: true, schema: {type: string}}
      responses:
        200:
          description: The report
          content:
            application/json:
              schema: ReportSchema
        404: {$ref: '#/components/responses/Error'}
    """
    detail = public_read.detail_by_public_id(primary_reader(), public_id)
    expand, key = current_expansion()
    tag = etag(key, detail)
    return not_modified(tag) or fragment_answer(expand(detail.encode()), tag)


@bp.get("/reports")
def list_reports() -> Response:
    """Reports on the map.
    ---
    get:
      summary: Reports as GeoJSON, newest first, cursor-paginated
      parameters:
        - in: query
          schema: ReportListQuery
      responses:
        200:
          description: A FeatureCollection
          content:
            application/geo+json:
              schema: ReportCollectionSchema
        422: {$ref: '#/components/responses/Error'}
    """
    args = load(REPORT_LIST_QUERY_SCHEMA, request.args)
    flt = PageFilter(
        bbox=args["bbox"],
        statuses=frozenset(s.value for s in expand_status_filter(args["status"]))
        if args["status"] else None,
        category_ids=report_queries.category_ids(snapshot(), args["category"]),
        limit=args["limit"],
        before_id=args["before_id"],
        updated_after=micros_or_none(args["updated_after"]),
    )
    # The map is the heaviest public read: chosen from the process's index, the features
    # from the replica when there is one (the app shows the reporter's own new report from
    # its local list meanwhile).
    expand, key = current_expansion()
    features, next_id = map_index().page(reader(), flt, expand, key)
    return _feature_collection(b",".join(features), key,
                               encode_cursor(next_id) if next_id is not None else None)


@bp.get("/reports/nearby")
def nearby_reports() -> Response:
    """Open reports of the same group close to a point.
    ---
    get:
      summary: "'Already reported?': open reports of the same category group nearby"
      description: >
        With `asset_id` (the asset the citizen chose) the open reports of the same group
        that point at that asset come first, at any distance and newest first, marked
        `same_asset: true`; then the others within the radius, nearest first, marked
        `same_asset: false`. Without it, no feature has `same_asset`. Reports placed only
        by district (`approximate`) are never found by distance, and with `approximate=true`
        (the searched point is a district's) there is no distance search at all.
      parameters:
        - in: query
          schema: NearbyQuery
      responses:
        200:
          description: Same-asset reports first (with `asset_id`), then nearest first, each
            with `distance_m`
          content:
            application/geo+json:
              schema: ReportCollectionSchema
        422: {$ref: '#/components/responses/Error'}
    """
    args = load(NEARBY_QUERY_SCHEMA, request.args)
    snap = snapshot()
    active_category(snap, args["category"])
    radius = args["radius_m"] or settings().nearby_radius_m
    reader = primary_read_session()
    asset_id = args["asset_id"]
    rows, same = report_queries.nearby_open_reports(
        reader, snap, args["category"], args["lon"], args["lat"], radius, asset_id=asset_id,
        approximate=args["approximate"])
    features = public_read.complete(reader, [(row[0], row[1]) for row in rows], "feature")
    distances = {row[0]: row[2] for row in rows}
    expand, key = current_expansion()
    joined = b",".join(
        with_distance(f.encode(), distances[row_id],
                      None if asset_id is None else row_id in same)
        for f, row_id in zip(features, distances, strict=True))
    return _feature_collection(expand(joined), key, None)


def _feature_collection(joined: bytes, key: str, next_cursor: str | None) -> Response:
    """Expanded map features (comma-joined; `key` names their expansion) as a GeoJSON
    FeatureCollection, with an ETag over them (a 304 before the body is assembled)."""
    tag = etag(key, joined, next_cursor or "")
    return not_modified(tag) or fragment_answer(
        b'{"type":"FeatureCollection","features":[' + joined + b'],"next_cursor":'
        + safe_json(next_cursor) + b"}", tag, "application/geo+json")


@bp.post("/reports/<public_id>/photos")
@limiter.limit(photos_limit)
def add_photos(public_id: str) -> tuple[Response, int]:
    """Add photos to a report later.
    ---
    post:
      summary: Add photos to your report later (slow or offline phones)
      description: >
        Needs the report's tracking token in the `X-Tracking-Token` header. A photo already
        on the report is not added twice, so a retried upload is harmless.
      parameters:
        - {in: path, name: public_id, required: true, schema: {type: string}}
        - {in: header, name: X-Tracking-Token, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [photos]
              properties:
                photos:
                  type: array
                  minItems: 1
                  maxItems: 3
                  items: {type: string, format: binary}
      responses:
        201:
          description: The photos of the upload, pending processing
          content:
            application/json:
              schema: UploadedPhotosSchema
        400: {$ref: '#/components/responses/Error'}
        404: {$ref: '#/components/responses/Error'}
        413: {$ref: '#/components/responses/Error'}
        415: {$ref: '#/components/responses/Error'}
        422: {$ref: '#/components/responses/Error'}
        429: {$ref: '#/components/responses/Error'}
    """
    token = request.headers.get("X-Tracking-Token", "")
    uploads = photo_uploads(settings().photo_max_bytes)
    added = submissions.add_photos(session(), storage(), jobs(), public_id, token, uploads,
                                   photo_limits())
    return jsonify(UPLOADED_PHOTOS_SCHEMA.dump({
        "photos": [uploaded_photo(p) for p in added]})), 201

"""Public asset endpoints: the assets on the map, the nearest one, a number lookup, one asset
with its open reports, and the layers with their licences."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from backend.api.asset_api_schemas import (
    AssetCollectionSchema,
    AssetDetailSchema,
    AssetLayerListSchema,
    AssetListSchema,
    AssetLookupQuery,
    AssetViewportQuery,
    NearestAssetQuery,
    NearestAssetSchema,
)
from backend.api.asset_schemas import asset_ref
from backend.api.context import primary_read_session, settings
from backend.api.fragment_answers import etag, fragment_answer, not_modified
from backend.api.request_io import load
from backend.jsonout import safe_json
from backend.services.assets import public
from backend.services.public_views.render import report_path

bp = Blueprint("assets", __name__, url_prefix="/api/v1")

# Assets change only with an import: a phone may reuse an answer for five minutes.
ASSET_CACHE = "public, max-age=300"
VIEWPORT_QUERY = AssetViewportQuery()
NEAREST_QUERY = NearestAssetQuery()
LOOKUP_QUERY = AssetLookupQuery()
COLLECTION = AssetCollectionSchema()
NEAREST = NearestAssetSchema()
ASSET_LIST = AssetListSchema()
DETAIL = AssetDetailSchema()
LAYERS = AssetLayerListSchema()


@bp.get("/assets")
def assets_in_viewport() -> Response:
    """Assets on the map.
    ---
    get:
      summary: The active assets in a map viewport (street zoom), as compact GeoJSON
      description: >
        For the citizen app's asset layer: at most 2,000 features (`truncated` says there
        were more: zoom in), each with the asset's id (what a report's `asset_id` takes),
        name, number, type and layer. `attribution` must be shown with them. The ETag
        changes with any import; answers may be reused for five minutes.
      parameters:
        - in: query
          schema: AssetViewportQuery
      responses:
        200:
          description: A FeatureCollection
          content:
            application/geo+json:
              schema: AssetCollectionSchema
        304:
          description: Unchanged since the ETag sent in If-None-Match
        422: {$ref: '#/components/responses/Error'}
    """
    args = load(VIEWPORT_QUERY, request.args)
    reads = primary_read_session()
    tag = etag("assets", public.layers_version(reads), repr(args["bbox"]), args["kind_field"],
               args["kind"] or "")
    answer = not_modified(tag, ASSET_CACHE)
    if answer is not None:
        return answer
    found = public.viewport(reads, args["bbox"], args["kind"], args["kind_field"])
    body = COLLECTION.dump({
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "id": hit.id,
                      "geometry": {"type": "Point",
                                   "coordinates": [round(hit.lon, 7), round(hit.lat, 7)]},
                      "properties": {"name": hit.name, "number": hit.number,
                                     "type": hit.asset_type, "layer": hit.layer}}
                     for hit in found.assets],
        "attribution": found.attribution,
        "truncated": found.truncated,
    })
    return fragment_answer(safe_json(body), tag, "application/geo+json", ASSET_CACHE)


@bp.get("/assets/nearest")
def nearest_asset() -> Response:
    """The nearest asset.
    ---
    get:
      summary: The active asset nearest to a point ("the nearest signal to the address")
      parameters:
        - in: query
          schema: NearestAssetQuery
      responses:
        200:
          description: The asset with `distance_m`, or null when none is within the radius
          content:
            application/json:
              schema: NearestAssetSchema
        422: {$ref: '#/components/responses/Error'}
    """
    args = load(NEAREST_QUERY, request.args)
    hit = public.nearest(primary_read_session(), args["lon"], args["lat"], args["kind"],
                         args["kind_field"], args["max_distance_m"])
    return _answer(NEAREST.dump({"asset": asset_ref(hit) if hit is not None else None}))


@bp.get("/assets/lookup")
def lookup_assets() -> Response:
    """Assets by number.
    ---
    get:
      summary: Active assets with a number (as printed on a signal's controller box)
      description: Spaces and case are ignored ("lsa 0815" finds "LSA0815").
      parameters:
        - in: query
          schema: AssetLookupQuery
      responses:
        200:
          description: The matching assets (none is an empty list)
          content:
            application/json:
              schema: AssetListSchema
        422: {$ref: '#/components/responses/Error'}
    """
    args = load(LOOKUP_QUERY, request.args)
    hits = public.by_number(primary_read_session(), args["number"], args["kind"],
                            args["kind_field"])
    return _answer(ASSET_LIST.dump({"assets": [asset_ref(hit) for hit in hits]}))


@bp.get("/assets/<int:asset_id>")
def get_asset(asset_id: int) -> Response:
    """One asset.
    ---
    get:
      summary: An asset (retired ones too) with its open reports
      parameters:
        - {in: path, name: asset_id, required: true, schema: {type: integer}}
      responses:
        200:
          description: The asset and the open reports about it (public data only)
          content:
            application/json:
              schema: AssetDetailSchema
        404: {$ref: '#/components/responses/Error'}
    """
    hit, reports = public.asset_with_reports(primary_read_session(), asset_id)
    base = settings().base_url
    return jsonify(DETAIL.dump({**asset_ref(hit), "open_reports": [
        {"id": r.public_id, "status": r.status, "created_at": r.created_at,
         "url": base + report_path(r.public_id)} for r in reports]}))


@bp.get("/asset-layers")
def asset_layers() -> Response:
    """The asset layers.
    ---
    get:
      summary: The asset registers with source, licence, attribution and counts
      responses:
        200:
          description: Every layer, by code
          content:
            application/json:
              schema: AssetLayerListSchema
    """
    return _answer(LAYERS.dump({"layers": public.layers(primary_read_session())}))


def _answer(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = ASSET_CACHE
    return response

"""GET /api/v1/categories: what can be reported, grouped, in the caller's language."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app, jsonify

from backend.api.context import snapshot
from backend.api.fragment_answers import catalogue_answer
from backend.api.request_io import request_locale
from backend.api.schemas import CategoryListSchema
from backend.jsonout import safe_json
from backend.services.catalogue import category_catalogue, district_points
from backend.services.catalogue import district_outlines as outline_geojson

bp = Blueprint("categories", __name__, url_prefix="/api/v1")
# Schemas are built once: instantiating them per request costs more than using them.
CATEGORY_LIST_SCHEMA = CategoryListSchema()


@bp.get("/categories")
def list_categories() -> Response:
    """Active categories by group.
    ---
    get:
      summary: List the categories a citizen can report, grouped
      description: "German by default; English with `Accept-Language: en`."
      parameters:
        - in: header
          name: Accept-Language
          schema: {type: string}
      responses:
        200:
          description: The groups with their categories
          content:
            application/json:
              schema: CategoryListSchema
    """
    return catalogue_answer("categories", lambda snap, locale: safe_json(
        CATEGORY_LIST_SCHEMA.dump(category_catalogue(snap, locale))))


@bp.get("/districts")
def list_districts() -> Response:
    """Districts with a point inside each.
    ---
    get:
      summary: The districts, each with a point inside it (for reporting without the map)
      responses:
        200:
          description: Districts in number order
    """
    snap = snapshot()
    return jsonify({"districts": district_points(snap), "attribution": current_app.extensions[
        "mm_city_config"].districts.get("attribution", "")})


@bp.get("/districts/outlines")
def district_outlines() -> Response:
    """The districts' outlines, labels and the city boundary.
    ---
    get:
      summary: District outlines and the city boundary as GeoJSON (the map's base layer)
      description: >
        What a map shows to orient by when the city configures no tile server (no third
        party sees the visitor): simplified district polygons with a label point each
        (`kind: district`) and the city boundary (`kind: city`).
      responses:
        200:
          description: A FeatureCollection
          content:
            application/geo+json:
              schema: {type: object}
        304:
          description: Unchanged since the ETag sent in If-None-Match
    """
    return catalogue_answer(
        "district-outlines", lambda snap, _locale: orjson.dumps(outline_geojson(snap)),
        "application/geo+json")


@bp.get("/departments")
def list_departments() -> Response:
    """The active departments (public: report views name them anyway).
    ---
    get:
      summary: The active departments, with names in the asked language
      responses:
        200:
          description: Departments by code
    """
    snap = snapshot()
    locale = request_locale()
    return jsonify({"departments": [
        {"code": d.code, "name": d.name.get(locale)}
        for d in sorted(snap.departments_by_id.values(), key=lambda d: d.code) if d.active]})

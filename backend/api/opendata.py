"""Public open data: all reports without personal data (CSV, GeoJSON), with licence."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, stream_with_context

from backend.api.context import read_session, settings, snapshot
from backend.api.docs import operation
from backend.services import opendata

bp = Blueprint("opendata", __name__, url_prefix="/api/v1/opendata")


def _metadata() -> dict:
    return opendata.metadata_for(current_app.extensions["mm_city_config"], settings())


def _stream(chunks, mimetype: str, name: str) -> Response:  # noqa: ANN001
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Link"] = f'<{settings().opendata_license_url}>; rel="license"'
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/reports.csv")
@operation("get", "Open data: every report without personal data, as CSV",
           tag="opendata", ok={200: "CSV (licence in the Link header)"}, errors=())
def reports_csv() -> Response:
    """All reports as CSV."""
    snap, sess = snapshot(), read_session()
    return _stream(opendata.csv_chunks(opendata.rows(sess, snap)), "text/csv",
                   "reports.csv")


@bp.get("/reports.geojson")
@operation("get", "Open data: every report without personal data, as GeoJSON",
           tag="opendata", ok={200: "GeoJSON FeatureCollection with metadata"}, errors=())
def reports_geojson() -> Response:
    """All reports as GeoJSON."""
    snap, sess = snapshot(), read_session()
    meta = _metadata()
    return _stream(opendata.geojson_chunks(opendata.rows(sess, snap), meta),
                   "application/geo+json", "reports.geojson")


@bp.get("/metadata.json")
@operation("get", "Open-data descriptor: licence, attribution, columns",
           tag="opendata", ok={200: "A data package descriptor"}, errors=())
def metadata() -> Response:
    """What the open-data files are."""
    return jsonify(_metadata())

"""Address search for the map-free report path: places inside the city for what was typed."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from backend.api.context import primary_read_session, snapshot
from backend.api.place_schemas import PlaceListSchema, PlaceQuery
from backend.api.rate_limits import limiter
from backend.api.request_io import load
from backend.services.addresses.geocoder import Geocoder, GeocoderConfig
from backend.services.addresses.places import search_places

bp = Blueprint("places", __name__, url_prefix="/api/v1")
QUERY = PlaceQuery()
PLACES = PlaceListSchema()


def places_limit() -> str:
    """The limit on address searches (per address): each may reach the geocoder."""
    return current_app.extensions["mm_settings"].rate_limit_places


def geocoder(app: Flask) -> Geocoder | None:
    """The app's geocoder (built on first use, one per app), or None when none is set."""
    if "mm_geocoder" not in app.extensions:
        s = app.extensions["mm_settings"]
        app.extensions["mm_geocoder"] = Geocoder(GeocoderConfig(
            s.geocoder_url, s.geocoder_kind, s.geocoder_timeout_ms / 1000,
            s.geocoder_cache_size, s.base_url)) if s.geocoder_url else None
    return app.extensions["mm_geocoder"]


@bp.get("/places")
@limiter.limit(places_limit)
def search() -> Response:
    """Address search.
    ---
    get:
      summary: Places in the city for a typed address (the map-free report path)
      description: >
        Searches the city's address register (imported with `maengelmelder addresses
        import`) by prefix and, when the city configured one (MM_GEOCODER_URL), its geocoder.
        The geocoder is asked by this server, never by the browser, without anything about
        the citizen but the text, restricted to the city; places outside every district are
        left out. When the geocoder fails the answer holds the register's places. A report
        placed at a found place sends `location_source: address`.
      parameters:
        - in: query
          schema: PlaceQuery
      responses:
        200:
          description: Register places first (exact house number first), then the geocoder's
          content:
            application/json:
              schema: PlaceListSchema
        422: {$ref: '#/components/responses/Error'}
        429: {$ref: '#/components/responses/Error'}
    """
    args = load(QUERY, request.args)
    found = search_places(primary_read_session(), snapshot(), args["q"], args["limit"],
                          geocoder(current_app))
    response = jsonify(PLACES.dump({"places": [
        {"label": f.place.label, "lat": round(f.place.lat, 7), "lon": round(f.place.lon, 7),
         "kind": f.place.kind, "source": f.place.source,
         "district": {"number": f.district.number, "name": f.district.name}}
        for f in found]}))
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


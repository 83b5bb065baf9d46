"""Spatial SQL that differs between PostGIS and SpatiaLite, behind one set of functions.

Both variants hit the spatial index: PostGIS through `&&` on the GiST index, SpatiaLite through
its R*Tree table `idx_<table>_<column>` (pkid, xmin, xmax, ymin, ymax).
"""

from __future__ import annotations

import math

from sqlalchemy import ColumnElement, and_, func, literal_column, text
from sqlalchemy.orm import InstrumentedAttribute

METRES_PER_DEGREE_LAT = 111_320.0


def degree_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box that surely contains the circle of `radius_m` around the point."""
    dlat = radius_m / METRES_PER_DEGREE_LAT * 1.01
    dlon = radius_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01)) * 1.01
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def in_box(dialect: str, table: str, pk: InstrumentedAttribute, geom: InstrumentedAttribute,
           box: tuple[float, float, float, float]) -> ColumnElement[bool]:
    """Points of `geom` inside the lon/lat box, using the spatial index."""
    minx, miny, maxx, maxy = box
    # Both indexes hold single-precision boxes rounded outwards, so a point a hair outside can
    # pass the index test: check the exact coordinates as well.
    exact = and_(func.ST_X(geom).between(minx, maxx), func.ST_Y(geom).between(miny, maxy))
    if dialect == "postgresql":
        return and_(geom.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326)), exact)
    rtree = text(
        f"SELECT pkid FROM idx_{table}_{geom.key} WHERE xmin <= :maxx AND xmax >= :minx "
        "AND ymin <= :maxy AND ymax >= :miny"
    ).bindparams(minx=minx, miny=miny, maxx=maxx, maxy=maxy)
    return and_(pk.in_(rtree.columns(literal_column("pkid"))), exact)


def point(lon: float, lat: float) -> ColumnElement:
    """A lon/lat point literal."""
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


def distance_m(dialect: str, geom: InstrumentedAttribute, lon: float, lat: float
               ) -> ColumnElement[float]:
    """Distance in metres on the ellipsoid between `geom` and the point."""
    if dialect == "postgresql":
        return func.ST_Distance(
            func.Geography(geom), func.Geography(point(lon, lat))
        )
    return func.ST_Distance(geom, func.MakePoint(lon, lat, 4326), 1)

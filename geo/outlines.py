"""The city's district outlines as a light GeoJSON base layer, for maps without tiles: each
district simplified (a few metres do not matter at the zoom a citizen orients by), with a
label point inside it, and the city boundary as the union of all. Pure: shapes in, dict out."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

TOLERANCE_DEG = 0.00015  # ≈ 11-17 m in Munich: invisible below zoom 16
DECIMALS = 5  # ≈ 1 m


def _rounded(geom: BaseGeometry) -> dict[str, Any]:
    mapped = shapely.geometry.mapping(shapely.set_precision(geom, 10 ** -DECIMALS))
    return {"type": mapped["type"], "coordinates": mapped["coordinates"]}


def outline_collection(districts: Iterable[tuple[str, str, BaseGeometry]],
                       tolerance: float = TOLERANCE_DEG) -> dict[str, Any]:
    """A FeatureCollection: one `district` feature per (number, name, polygon) with
    `label_lon`/`label_lat`, then one `city` feature (the union's outline, as lines)."""
    features = []
    shapes = []
    for number, name, geom in districts:
        simple = shapely.simplify(geom, tolerance, preserve_topology=True)
        label = shapely.point_on_surface(geom)
        shapes.append(geom)
        features.append({
            "type": "Feature",
            "properties": {"kind": "district", "number": number, "name": name,
                           "label_lon": round(label.x, DECIMALS),
                           "label_lat": round(label.y, DECIMALS)},
            "geometry": _rounded(simple),
        })
    if shapes:
        city = shapely.simplify(shapely.union_all(shapes).boundary, tolerance)
        features.append({"type": "Feature", "properties": {"kind": "city"},
                         "geometry": _rounded(city)})
    return {"type": "FeatureCollection", "features": features}

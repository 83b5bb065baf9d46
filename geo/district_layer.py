"""Parse a GeoJSON district layer (any declared CRS) into validated lon/lat district shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from geo.crs import crs_of_geojson, to_lonlat
from geo.errors import LayerError

_POLYGONAL = ("Polygon", "MultiPolygon")
_INVALID = "invalid district layer"


@dataclass(frozen=True)
class DistrictShape:
    """One district: its number, its name and its area as a lon/lat MultiPolygon."""

    number: str
    name: str
    geometry: MultiPolygon


@dataclass
class _Feature:
    """A feature that passed the per-feature checks, before merging by number."""

    index: int
    number: str
    name: str
    geometry: BaseGeometry


def parse_district_layer(
    data: bytes | str | dict[str, Any],
    number_field: str = "sb_nummer",
    name_field: str = "sb_name",
) -> list[DistrictShape]:
    """Parse a GeoJSON FeatureCollection into districts sorted by number; raise LayerError."""
    collection = _load_collection(data)
    problems: list[str] = []
    try:
        crs: str | None = crs_of_geojson(collection)
    except LayerError as err:
        # Keep going without a CRS so the user also learns about property problems at once.
        problems.extend(err.problems)
        crs = None
    features = [
        feature
        for index, raw in enumerate(collection["features"])
        if (feature := _check_feature(index, raw, number_field, name_field, problems))
    ]
    if crs is not None:
        _reproject(features, crs, problems)
    _check_names(features, number_field, problems)
    if problems:
        raise LayerError(_INVALID, problems)
    districts = _merge(features, problems)
    if problems:
        raise LayerError(_INVALID, problems)
    if not districts:
        raise LayerError(_INVALID, ["the layer yields no districts"])
    return districts


def _load_collection(data: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Decode the input and check it is a non-empty FeatureCollection (fatal problems only)."""
    if isinstance(data, dict):
        obj: Any = data
    else:
        try:
            # json.loads detects UTF-8/16/32 and a UTF-8 BOM in bytes; str needs the BOM removed.
            obj = json.loads(data.lstrip("\ufeff") if isinstance(data, str) else data)
        except (ValueError, RecursionError) as err:
            raise LayerError(_INVALID, [f"the file is not valid JSON ({err})"]) from err
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection":
        found = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        raise LayerError(_INVALID, [f"expected a GeoJSON FeatureCollection, got {found!r}"])
    features = obj.get("features")
    if not isinstance(features, list):
        raise LayerError(_INVALID, ["the FeatureCollection has no 'features' list"])
    if not features:
        raise LayerError(_INVALID, ["the FeatureCollection contains no features"])
    return obj


def _check_feature(
    index: int, raw: Any, number_field: str, name_field: str, problems: list[str]
) -> _Feature | None:
    """Validate one feature's properties and geometry; record problems, return None if unusable."""
    where = f"feature {index}"
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        problems.append(f"{where}: is not a GeoJSON Feature")
        return None
    props = raw.get("properties")
    props = props if isinstance(props, dict) else {}
    number = _text_property(where, props, number_field, problems)
    if number is not None:
        where = f"feature {index} ({number_field} {number!r})"
    name = _text_property(where, props, name_field, problems)
    geometry = _feature_geometry(where, raw.get("geometry"), problems)
    if number is None or name is None or geometry is None:
        return None
    return _Feature(index, number, name, geometry)


def _text_property(
    where: str, props: dict[str, Any], field: str, problems: list[str]
) -> str | None:
    """Return a property as stripped text (ints become "1"); record it missing or empty."""
    if field not in props:
        # Listing what is there makes a wrong number_field/name_field setting obvious.
        present = ", ".join(repr(key) for key in props) or "none"
        problems.append(f"{where}: property {field!r} is missing (properties: {present})")
        return None
    value = props[field]
    if value is None:
        problems.append(f"{where}: property {field!r} is null")
        return None
    text = str(value).strip()
    if not text:
        problems.append(f"{where}: property {field!r} is empty")
        return None
    return text


def _feature_geometry(where: str, raw: Any, problems: list[str]) -> BaseGeometry | None:
    """Build the shapely geometry of a feature if it is a non-empty Polygon or MultiPolygon."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: has no geometry")
        return None
    kind = raw.get("type")
    if kind not in _POLYGONAL:
        problems.append(f"{where}: geometry type {kind!r} is not Polygon or MultiPolygon")
        return None
    try:
        geometry = shape(raw)
    except (ShapelyError, ValueError, TypeError, IndexError, KeyError) as err:
        problems.append(f"{where}: geometry coordinates are malformed ({err})")
        return None
    if geometry.is_empty:
        problems.append(f"{where}: geometry is empty")
        return None
    return geometry


def _reproject(features: list[_Feature], crs: str, problems: list[str]) -> None:
    """Reproject all geometries to lon/lat in one call and flag coordinates out of range."""
    if not features:
        return
    projected = to_lonlat(np.array([f.geometry for f in features], dtype=object), crs)
    bounds = shapely.bounds(projected)
    for feature, geometry, box in zip(features, projected, bounds, strict=True):
        feature.geometry = geometry
        minx, miny, maxx, maxy = (float(v) for v in box)
        # Written so that NaN/inf (failed transforms) also count as out of range.
        in_range = -180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0
        if not in_range:
            # Typical cause: a metric (e.g. UTM) file whose crs member is missing or wrong.
            problems.append(
                f"feature {feature.index} ({feature.number!r}): coordinates are outside the "
                f"lon/lat range after reprojection from {crs}; "
                "is the 'crs' member missing or wrong?"
            )


def _check_names(features: list[_Feature], number_field: str, problems: list[str]) -> None:
    """Record features that give an already seen district number a different name."""
    first: dict[str, _Feature] = {}
    for feature in features:
        seen = first.setdefault(feature.number, feature)
        if seen.name != feature.name:
            problems.append(
                f"feature {feature.index}: {number_field} {feature.number!r} is named "
                f"{feature.name!r} but feature {seen.index} names it {seen.name!r}"
            )


def _merge(features: list[_Feature], problems: list[str]) -> list[DistrictShape]:
    """Union the repaired parts of each district number into one MultiPolygon, sorted."""
    parts: dict[str, list[Polygon]] = {}
    names: dict[str, str] = {}
    for feature in features:
        names.setdefault(feature.number, feature.name)
        # make_valid first: union_all can raise a TopologyException on invalid input.
        repaired = polygons_of(shapely.make_valid(feature.geometry))
        parts.setdefault(feature.number, []).extend(repaired)
    districts = []
    for number in sorted(names, key=_number_key):
        merged = polygons_of(shapely.union_all(parts[number])) if parts[number] else []
        if not merged:
            problems.append(f"district {number!r}: geometry has no area after repair")
            continue
        districts.append(DistrictShape(number, names[number], MultiPolygon(merged)))
    return districts


def polygons_of(geometry: BaseGeometry) -> list[Polygon]:
    """Return the non-empty polygons inside any geometry, dropping points and lines."""
    found: list[Polygon] = []
    stack = [geometry]
    while stack:
        current = stack.pop()
        if isinstance(current, Polygon):
            if not current.is_empty:
                found.append(current)
        elif current.geom_type in ("MultiPolygon", "GeometryCollection"):
            # make_valid may nest a MultiPolygon inside a GeometryCollection.
            stack.extend(reversed(shapely.get_parts(current).tolist()))
    return found


def _number_key(number: str) -> tuple[bool, int, str]:
    """Sort numerically where possible so "2" comes before "10", and "01" before "02"."""
    return (not number.isdigit(), int(number) if number.isdigit() else 0, number)

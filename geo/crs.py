"""Coordinate reference systems: read the CRS a GeoJSON file declares, reproject to lon/lat."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from geo.errors import LayerError

LONLAT = "EPSG:4326"
CRS84 = "OGC:CRS84"

# Both mean "lon, lat on WGS84" for GeoJSON: files that declare EPSG:4326 still store lon,lat in
# practice, so their coordinates need no transformation at all.
_LONLAT_NAMES = frozenset({LONLAT, CRS84})

# The spellings of a CRS name seen in GeoJSON files in the wild (authority, optional version, code).
_CRS_PATTERNS = (
    re.compile(r"^urn:ogc:def:crs:(?P<auth>EPSG|OGC):[^:]*:(?P<code>\w+)$", re.IGNORECASE),
    re.compile(
        r"^https?://www\.opengis\.net/def/crs/(?P<auth>EPSG|OGC)/[^/]+/(?P<code>\w+)$",
        re.IGNORECASE,
    ),
    re.compile(r"^(?P<auth>EPSG|OGC):(?P<code>\w+)$", re.IGNORECASE),
)


def crs_of_geojson(obj: dict[str, Any]) -> str:
    """Return the CRS a GeoJSON object declares as a pyproj string, e.g. "EPSG:25832"."""
    crs = obj.get("crs")
    if crs is None:
        # RFC 7946 removed the crs member: everything without one is lon/lat WGS84.
        return CRS84
    if not isinstance(crs, dict) or crs.get("type") != "name":
        raise LayerError("unsupported crs member", [f"crs must be of type 'name', got {crs!r}"])
    props = crs.get("properties")
    name = props.get("name") if isinstance(props, dict) else None
    if not isinstance(name, str):
        raise LayerError("unsupported crs member", [f"crs has no properties.name: {crs!r}"])
    return parse_crs_name(name)


def parse_crs_name(name: str) -> str:
    """Normalise a CRS name (URN, OGC URL or "AUTH:CODE") to a pyproj string like "EPSG:25832"."""
    text = name.strip()
    for pattern in _CRS_PATTERNS:
        match = pattern.match(text)
        if match:
            auth, code = match["auth"].upper(), match["code"].upper()
            break
    else:
        raise LayerError("unsupported crs member", [f"cannot parse CRS name {name!r}"])
    if auth == "EPSG" and not code.isdigit():
        raise LayerError("unsupported crs member", [f"EPSG code must be a number in {name!r}"])
    result = f"{auth}:{code}"
    if not _is_known(result):
        raise LayerError("unsupported crs member", [f"CRS {result} (from {name!r}) is unknown"])
    return result


@lru_cache(maxsize=64)
def _is_known(crs: str) -> bool:
    """Tell whether pyproj knows this CRS (cached: the lookup hits the proj database)."""
    try:
        pyproj.CRS.from_user_input(crs)
    except CRSError:
        return False
    return True


@lru_cache(maxsize=32)
def transformer(source: str, target: str) -> pyproj.Transformer:
    """Return a cached Transformer from source to target CRS with x=lon/easting axis order."""
    # Building a Transformer costs milliseconds (proj database lookups); transforms are cheap.
    # pyproj >= 3.1 Transformers are thread-safe, so one cached instance can serve all threads.
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def is_lonlat(crs: str) -> bool:
    """Tell whether coordinates in this CRS already are lon/lat WGS84."""
    return crs.strip().upper() in _LONLAT_NAMES


def to_lonlat(geom: BaseGeometry, source_crs: str) -> BaseGeometry:
    """Reproject a shapely geometry (or array of them) from source_crs to lon/lat WGS84."""
    if is_lonlat(source_crs):
        return geom
    tr = transformer(source_crs, LONLAT)

    def _project(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # One vectorised proj call for all vertices instead of one call per coordinate.
        return tr.transform(x, y)

    return shapely.transform(geom, _project, interleaved=False)


def points_to_lonlat(xs: np.ndarray, ys: np.ndarray, source_crs: str
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Reproject arrays of x/y coordinates from source_crs to lon/lat WGS84 (one proj call)."""
    if is_lonlat(source_crs):
        return xs, ys
    lons, lats = transformer(source_crs, LONLAT).transform(xs, ys)
    return np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)

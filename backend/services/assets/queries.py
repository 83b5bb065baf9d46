"""Find assets: the nearest to a point, those in a map viewport, those with a number.

Everything goes through the SQL spatial index of `asset.geom` (PostGIS: GiST via `&&`;
SpatiaLite: the R*Tree `idx_asset_geom`), see `backend.db.spatial.in_box`. The nearest
asset is found by searching growing boxes until the best distance is inside the searched
radius, which makes the answer exact on the ellipsoid on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from backend.db.spatial import degree_box, in_box
from backend.errors import InvalidInput
from backend.models import Asset, AssetLayer, AssetType
from backend.services.assets.importer import number_key
from geo.distance import distances_m

FIRST_RADIUS_M = 50.0
GROWTH = 4.0
MAX_SEARCH_M = 20_000.0  # boxes built by degree_box stay exact up to this radius


@dataclass(frozen=True)
class AssetHit:
    """An asset as the API and the map show it."""

    id: int
    layer: str
    asset_type: str
    external_id: str
    name: str | None
    number: str | None
    lon: float
    lat: float
    retired: bool = False
    distance_m: float | None = None


def _layers(session: Session, type_or_group: str | None) -> dict[int, tuple[str, str]]:
    """Layer id → (layer code, type code) of the active asset types that `type_or_group`
    names: an asset type code, or a category group code (its types); None: every type."""
    rows = session.execute(
        select(AssetType.code, AssetType.group_codes, AssetLayer.id, AssetLayer.code)
        .outerjoin(AssetLayer, AssetLayer.asset_type_id == AssetType.id)
        .where(AssetType.active)
    ).all()
    named = [row for row in rows if type_or_group is None or row[0] == type_or_group
             or type_or_group in (row[1] or ())]
    if type_or_group is not None and not named:
        raise InvalidInput(f"{type_or_group!r} is neither an asset type nor a category group "
                           "with an asset type", {"type": ["unknown asset type or group"]})
    return {row[2]: (row[3], row[0]) for row in named if row[2] is not None}


def layer_codes(session: Session, type_or_group: str | None) -> list[str]:
    """The codes of the layers `type_or_group` covers (see `_layers`), sorted."""
    return sorted({code for code, _ in _layers(session, type_or_group).values()})


def _select(layer_ids: list[int]) -> Select:
    # `layer_id + 0`: an expression no index covers. Otherwise SQLite walks the layer's
    # entries of the (layer_id, external_id) index, every asset of a big layer, instead of
    # the few rows the spatial index yields.
    return select(Asset.id, Asset.layer_id, Asset.external_id, Asset.name, Asset.number,
                  func.ST_X(Asset.geom), func.ST_Y(Asset.geom), Asset.retired_at) \
        .where((Asset.layer_id + 0).in_(layer_ids))


def _hits(rows: list, layers: dict[int, tuple[str, str]]) -> list[AssetHit]:
    return [AssetHit(row[0], *layers[row[1]], row[2], row[3], row[4], float(row[5]),
                     float(row[6]), row[7] is not None) for row in rows]


def nearest_assets(session: Session, lon: float, lat: float, type_or_group: str | None,
                   max_distance_m: float, limit: int = 1) -> list[AssetHit]:
    """Up to `limit` active assets nearest to the point within `max_distance_m`, nearest
    first (ties by id), each with its distance in metres."""
    layers = _layers(session, type_or_group)
    if not layers or limit < 1:
        return []
    max_distance_m = min(max_distance_m, MAX_SEARCH_M)
    dialect = session.get_bind().dialect.name
    radius = min(FIRST_RADIUS_M, max_distance_m)
    while True:
        box = degree_box(lon, lat, radius)
        rows = session.execute(_select(list(layers)).where(
            Asset.retired_at.is_(None), in_box(dialect, "asset", Asset.id, Asset.geom, box)
        )).all()
        hits = _hits(rows, layers)
        dist = distances_m(lon, lat, np.array([h.lon for h in hits]),
                           np.array([h.lat for h in hits]))
        within = sorted((float(d), h.id, h) for d, h in zip(dist, hits, strict=True)
                        if d <= min(radius, max_distance_m))
        # Every asset within `radius` is in the box: with enough of them found, none
        # outside the box can be nearer.
        if len(within) >= limit or radius >= max_distance_m:
            return [replace(h, distance_m=round(d, 2)) for d, _, h in within[:limit]]
        radius = min(radius * GROWTH, max_distance_m)


def nearest_asset(session: Session, lon: float, lat: float, type_or_group: str | None,
                  max_distance_m: float) -> AssetHit | None:
    """The active asset nearest to the point within `max_distance_m`, or None."""
    found = nearest_assets(session, lon, lat, type_or_group, max_distance_m, 1)
    return found[0] if found else None


def assets_in_bbox(session: Session, bbox: tuple[float, float, float, float],
                   type_or_group: str | None, limit: int = 1000) -> list[AssetHit]:
    """Active assets inside the lon/lat box (minx, miny, maxx, maxy), by id, at most
    `limit` (ask for one more to learn whether the box holds more)."""
    layers = _layers(session, type_or_group)
    if not layers or limit < 1:
        return []
    dialect = session.get_bind().dialect.name
    rows = session.execute(_select(list(layers)).where(
        Asset.retired_at.is_(None), in_box(dialect, "asset", Asset.id, Asset.geom, bbox)
    ).order_by(Asset.id).limit(limit)).all()
    return _hits(rows, layers)


def assets_by_number(session: Session, number: str, type_or_group: str | None = None, *,
                     include_retired: bool = False, limit: int = 20) -> list[AssetHit]:
    """Assets whose number matches what was typed (spaces and case ignored), active first."""
    key = number_key(number)
    layers = _layers(session, type_or_group)
    if key is None or not layers:
        return []
    query = _select(list(layers)).where(Asset.number_key == key)
    if not include_retired:
        query = query.where(Asset.retired_at.is_(None))
    rows = session.execute(query.order_by(Asset.retired_at.is_not(None), Asset.id)
                           .limit(limit)).all()
    return _hits(rows, layers)


def get_asset(session: Session, asset_id: int) -> AssetHit | None:
    """One asset by id, retired or not (a report keeps pointing at a retired one)."""
    row = session.execute(
        select(Asset.id, AssetLayer.code, AssetType.code, Asset.external_id, Asset.name,
               Asset.number, func.ST_X(Asset.geom), func.ST_Y(Asset.geom), Asset.retired_at)
        .join(AssetLayer, AssetLayer.id == Asset.layer_id)
        .join(AssetType, AssetType.id == AssetLayer.asset_type_id)
        .where(Asset.id == asset_id)).first()
    if row is None:
        return None
    return AssetHit(row[0], row[1], row[2], row[3], row[4], row[5], float(row[6]),
                    float(row[7]), row[8] is not None)


@dataclass(frozen=True)
class LayerInfo:
    """An asset layer with what must be shown with it."""

    code: str
    asset_type: str
    source: str
    licence: str
    attribution: str
    imported_at: datetime
    active_count: int
    retired_count: int
    version: str


def list_layers(session: Session) -> list[LayerInfo]:
    """Every asset layer, by code."""
    rows = session.execute(
        select(AssetLayer, AssetType.code).join(AssetType, AssetType.id == AssetLayer.asset_type_id)
        .order_by(AssetLayer.code)).all()
    return [LayerInfo(layer.code, type_code, layer.source, layer.licence, layer.attribution,
                      layer.imported_at, layer.active_count, layer.retired_count, layer.version)
            for layer, type_code in rows]

"""The public asset API's reads: the assets of a map viewport with their attribution, the
nearest asset, a number lookup, one asset with its open reports, the layers.

Queries name an asset type or a category group; an unknown one is refused naming the query
parameter the caller used (`group` or `type`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput, NotFound
from backend.models import AssetLayer
from backend.services.assets import queries
from backend.services.assets.queries import AssetHit, LayerInfo
from backend.services.assets.reporting import AssetReport, open_reports_of_asset

VIEWPORT_LIMIT = 2000  # the PWA asks at street zoom only; more would be slow on a phone
MAX_NEAREST_M = 2000.0


@dataclass(frozen=True)
class Attribution:
    """What must be shown with a layer's assets."""

    layer: str
    text: str
    licence: str


@dataclass(frozen=True)
class Viewport:
    """The assets of a viewport (at most `VIEWPORT_LIMIT`) and whether there were more."""

    assets: list[AssetHit]
    truncated: bool
    attribution: list[Attribution]


@contextmanager
def _named(field: str) -> Iterator[None]:
    """Name the caller's query parameter in a refusal of the type or group."""
    try:
        yield
    except InvalidInput as exc:
        raise InvalidInput(exc.message, {field: next(iter(exc.fields.values()))}) from exc


def layers_version(session: Session) -> str:
    """A text that changes whenever any layer's assets change (for ETags)."""
    rows = session.execute(select(AssetLayer.code, AssetLayer.version)
                           .order_by(AssetLayer.code)).all()
    return ";".join(f"{code}={version}" for code, version in rows)


def viewport(session: Session, bbox: tuple[float, float, float, float],
             type_or_group: str | None, field: str, limit: int = VIEWPORT_LIMIT) -> Viewport:
    """Active assets in the box, by id, with the attribution of the layers asked about."""
    with _named(field):
        codes = set(queries.layer_codes(session, type_or_group))
        found = queries.assets_in_bbox(session, bbox, type_or_group, limit + 1)
    attribution = [Attribution(layer.code, layer.attribution, layer.licence)
                   for layer in queries.list_layers(session)
                   if layer.code in codes and layer.attribution]
    return Viewport(found[:limit], len(found) > limit, attribution)


def nearest(session: Session, lon: float, lat: float, type_or_group: str | None, field: str,
            max_distance_m: float) -> AssetHit | None:
    """The nearest active asset within `max_distance_m` (at most `MAX_NEAREST_M`)."""
    with _named(field):
        return queries.nearest_asset(session, lon, lat, type_or_group,
                                     min(max_distance_m, MAX_NEAREST_M))


def by_number(session: Session, number: str, type_or_group: str | None, field: str
              ) -> list[AssetHit]:
    """Active assets with this number (spaces and case ignored)."""
    with _named(field):
        return queries.assets_by_number(session, number, type_or_group)


def asset_with_reports(session: Session, asset_id: int) -> tuple[AssetHit, list[AssetReport]]:
    """One asset (retired ones too) and its open reports, newest first."""
    # Ids are positive 64-bit integers: a larger one is simply not there (the database
    # would refuse to compare with it).
    hit = queries.get_asset(session, asset_id) if 0 < asset_id < 2**63 else None
    if hit is None:
        raise NotFound("No asset with this id.", {"id": ["not found"]})
    return hit, open_reports_of_asset(session, asset_id)


def public_source(source: str) -> str:
    """A layer's source as shown publicly: a URL as it is, a local file by its name only
    (the server's paths are nobody's business)."""
    if urlsplit(source).scheme in ("http", "https"):
        return source
    return PurePath(source).name


def layers(session: Session) -> list[LayerInfo]:
    """Every asset layer, its source as shown publicly."""
    return [LayerInfo(layer.code, layer.asset_type, public_source(layer.source), layer.licence,
                      layer.attribution, layer.imported_at, layer.active_count,
                      layer.retired_count, layer.version)
            for layer in queries.list_layers(session)]

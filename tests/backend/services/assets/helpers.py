"""Small real asset files written into a test's directory, and what is stored of a layer."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Asset, AssetLayer

MARIENPLATZ = (11.5755, 48.1374)
HAUPTBAHNHOF = (11.5600, 48.1402)
OLYMPIASTADION = (11.5465, 48.1731)
ALLIANZ_ARENA = (11.6247, 48.2188)
MESSE_RIEM = (11.6950, 48.1360)


def write_geojson(path: Path, assets: dict[str, tuple[float, float]],
                  **properties: dict[str, object]) -> Path:
    """A GeoJSON file of points, id → (lon, lat); extra properties per id."""
    features = [
        {"type": "Feature", "properties": {"id": ident, **properties.get(ident, {})},
         "geometry": {"type": "Point", "coordinates": list(point)}}
        for ident, point in assets.items()
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def stored(session: Session, layer: str) -> dict[str, tuple]:
    """external id → (name, number, lon, lat, retired) of a layer's assets."""
    session.commit()  # a fresh snapshot (PostgreSQL: another transaction wrote)
    rows = session.execute(
        select(Asset.external_id, Asset.name, Asset.number, func.ST_X(Asset.geom),
               func.ST_Y(Asset.geom), Asset.retired_at)
        .join(AssetLayer, AssetLayer.id == Asset.layer_id).where(AssetLayer.code == layer))
    return {row[0]: (row[1], row[2], round(row[3], 7), round(row[4], 7), row[5] is not None)
            for row in rows}


def database_state(session: Session) -> tuple:
    """Everything an import may write: layers and assets, for 'unchanged' checks."""
    session.commit()
    layers = session.execute(select(AssetLayer.code, AssetLayer.version, AssetLayer.licence,
                                    AssetLayer.active_count).order_by(AssetLayer.code)).all()
    assets = session.execute(select(Asset.id, Asset.external_id, Asset.name, Asset.number,
                                    Asset.retired_at, func.ST_AsText(Asset.geom))
                             .order_by(Asset.id)).all()
    return [tuple(row) for row in layers], [tuple(row) for row in assets]

"""Assets of many reports at once (the staff queue, analytics): assets by id in one query per
thousand. Which asset a report may point at is `reporting.asset_for_report`."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Asset, AssetLayer, AssetType
from backend.services.assets.queries import AssetHit

CHUNK = 1000  # ids per IN list


def get_assets(session: Session, asset_ids: Iterable[int | None]) -> dict[int, AssetHit]:
    """Assets by id, retired or not (None, a report without an asset, is skipped)."""
    wanted = sorted({i for i in asset_ids if i is not None})
    found: dict[int, AssetHit] = {}
    for start in range(0, len(wanted), CHUNK):
        for row in session.execute(
            select(Asset.id, AssetLayer.code, AssetType.code, Asset.external_id, Asset.name,
                   Asset.number, func.ST_X(Asset.geom), func.ST_Y(Asset.geom),
                   Asset.retired_at)
            .join(AssetLayer, AssetLayer.id == Asset.layer_id)
            .join(AssetType, AssetType.id == AssetLayer.asset_type_id)
            .where(Asset.id.in_(wanted[start:start + CHUNK]))):
            found[row[0]] = AssetHit(row[0], row[1], row[2], row[3], row[4], row[5],
                                     float(row[6]), float(row[7]), row[8] is not None)
    return found

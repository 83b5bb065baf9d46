"""Assets of reports for staff, exports and Open311: many assets by id at once, and which
asset a report may point at (an active asset of an active type tied to the report's category
group, the intake's rule)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput
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


def asset_for_group(session: Session, asset_id: int, group_code: str,
                    field: str = "asset_id") -> AssetHit:
    """The asset `asset_id` if a report of category group `group_code` may point at it, else
    InvalidInput naming `field`: it must exist, not be retired, and be of an active asset type
    tied to the group."""
    row = session.execute(
        select(Asset.retired_at, AssetType.active, AssetType.group_codes)
        .join(AssetLayer, AssetLayer.id == Asset.layer_id)
        .join(AssetType, AssetType.id == AssetLayer.asset_type_id)
        .where(Asset.id == asset_id)).first()
    if row is None:
        raise InvalidInput("No asset with this id.", {field: ["not found"]})
    retired_at, type_active, groups = row
    if retired_at is not None:
        raise InvalidInput("The asset is no longer in the register.",
                           {field: ["retired asset"]})
    if not type_active or group_code not in (groups or ()):
        raise InvalidInput("Reports of this category cannot point at this kind of asset.",
                           {field: [f"not an asset of category group {group_code!r}"]})
    return get_assets(session, [asset_id])[asset_id]

"""Assets in reports: the check that a report may point at an asset, and the open reports of
an asset (its public page, the 'already reported?' prompt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput
from backend.models import Asset, AssetLayer, AssetType, Report
from backend.services.assets.queries import AssetHit, get_asset
from backend.workflow import OPEN_STATUSES

FIELD = "asset_id"


def asset_for_report(session: Session, asset_id: int, group_code: str) -> AssetHit:
    """The asset a new report in category group `group_code` points at; InvalidInput naming
    `asset_id` when it is unknown, retired, or of a type not tied to that group."""
    hit = get_asset(session, asset_id)
    if hit is None:
        raise InvalidInput("No asset with this id.", {FIELD: ["unknown asset"]})
    if hit.retired:
        raise InvalidInput("This asset is no longer in the register; choose another one or "
                           "report without an asset.", {FIELD: ["retired asset"]})
    row = session.execute(
        select(AssetType.name_en, AssetType.group_codes, AssetType.active)
        .join(AssetLayer, AssetLayer.asset_type_id == AssetType.id)
        .join(Asset, Asset.layer_id == AssetLayer.id).where(Asset.id == asset_id)).one()
    name, groups, active = row
    if not active or group_code not in (groups or ()):
        message = (f"a {name.lower()} cannot be chosen for a category of the group "
                   f"'{group_code}'")
        raise InvalidInput(message[0].upper() + message[1:] + ".", {FIELD: [message]})
    return hit


@dataclass(frozen=True)
class AssetReport:
    """An open report about an asset, as anyone may see it (no personal data)."""

    public_id: str
    status: str
    created_at: datetime


def open_reports_of_asset(session: Session, asset_id: int, limit: int = 50
                          ) -> list[AssetReport]:
    """The open reports pointing at an asset, newest first."""
    rows = session.execute(
        select(Report.public_id, Report.status, Report.created_at)
        .where(Report.asset_id == asset_id,
               Report.status.in_(sorted(s.value for s in OPEN_STATUSES)))
        .order_by(Report.id.desc()).limit(limit)).all()
    return [AssetReport(row[0], row[1], row[2]) for row in rows]


def open_report_ids_of_asset(session: Session, asset_id: int, category_ids: list[int],
                             limit: int = 20) -> list[int]:
    """Ids of the open reports of these categories pointing at an asset, newest first."""
    return list(session.scalars(
        select(Report.id)
        .where(Report.asset_id == asset_id, Report.category_id.in_(category_ids),
               Report.status.in_(sorted(s.value for s in OPEN_STATUSES)))
        .order_by(Report.id.desc()).limit(limit)))

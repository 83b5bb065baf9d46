"""Analysts' figures per asset: the most-reported traffic signals and sign posts, their open
reports and how long fixing them took."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput
from backend.models import Asset, AssetLayer, AssetType, Report
from backend.services.assets.batch import get_assets
from backend.services.assets.queries import AssetHit
from backend.workflow import OPEN_STATUSES

OPEN_VALUES = sorted(s.value for s in OPEN_STATUSES)


@dataclass(frozen=True)
class AssetFigures:
    """One asset's reports in the window."""

    asset: AssetHit
    reports: int
    open: int
    median_hours_to_fix: float | None  # resolved minus created, over its resolved reports
    last_report_at: datetime


def _time(value: datetime | str) -> datetime:
    """SQLite hands back an aggregate's timestamp as text."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def most_reported_assets(session: Session, start: datetime | None, end: datetime | None,
                         asset_type: str | None, limit: int) -> list[AssetFigures]:
    """The assets with the most reports created in [start, end) (optionally of one asset
    type), most first (ties: the most recent report first, then by id)."""
    conditions = [Report.asset_id.is_not(None)]
    if start is not None:
        conditions.append(Report.created_at >= start)
    if end is not None:
        conditions.append(Report.created_at < end)
    query = select(Report.asset_id, func.count().label("n"),
                   func.sum(case((Report.status.in_(OPEN_VALUES), 1), else_=0)),
                   func.max(Report.created_at).label("last"))
    window = list(conditions)
    if asset_type is not None:
        if session.scalar(select(AssetType.id).where(AssetType.code == asset_type)) is None:
            raise InvalidInput("Unknown asset type.", {"type": ["unknown asset type"]})
        query = (query.join(Asset, Asset.id == Report.asset_id)
                 .join(AssetLayer, AssetLayer.id == Asset.layer_id)
                 .join(AssetType, AssetType.id == AssetLayer.asset_type_id))
        conditions.append(AssetType.code == asset_type)
    ranked = session.execute(query.where(*conditions).group_by(Report.asset_id)
                             .order_by(func.count().desc(), func.max(Report.created_at).desc(),
                                       Report.asset_id).limit(limit)).all()
    ids = [row[0] for row in ranked]  # of the asked type: the times need no type join
    hours: dict[int, list[float]] = defaultdict(list)
    if ids:
        for asset_id, created, resolved in session.execute(
                select(Report.asset_id, Report.created_at, Report.resolved_at)
                .where(*window, Report.asset_id.in_(ids), Report.resolved_at.is_not(None))):
            hours[asset_id].append((resolved - created).total_seconds() / 3600)
    assets = get_assets(session, ids)
    return [AssetFigures(assets[asset_id], int(n), int(open_n or 0),
                         round(statistics.median(hours[asset_id]), 2)
                         if hours[asset_id] else None, _time(last))
            for asset_id, n, open_n, last in ranked]

"""Reports pointing at the demo layer's traffic signals (set in the database directly, as the
intake is written elsewhere) for the staff, open-data, Open311 and analytics tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Report
from backend.services.assets.queries import AssetHit, nearest_assets
from backend.services.public_views.store import refresh
from tests.backend.api.helpers import MARIENPLATZ


def signals(app: Flask, count: int = 2, point: tuple[float, float] = MARIENPLATZ
            ) -> list[AssetHit]:
    """The `count` demo traffic signals (layer lsa-osm) nearest to the point."""
    with app.app_context():
        found = nearest_assets(db.session, point[0], point[1], "traffic_signal", 5000, count)
    assert len(found) == count, "the demo layer lsa-osm is not loaded"
    return found


def point_at(app: Flask, public_id: str, asset_id: int | None, **values: Any) -> None:
    """Point the report at an asset (and set other columns, e.g. times) in the database."""
    with app.app_context():
        db.session.execute(update(Report).where(Report.public_id == public_id)
                           .values(asset_id=asset_id, **values))
        # A bulk UPDATE passes by the session hook: render the public views again here.
        report_id = db.session.scalar(select(Report.id).where(Report.public_id == public_id))
        refresh(db.session, [report_id])
        db.session.commit()


def asset_of(app: Flask, public_id: str) -> tuple[int | None, datetime]:
    """The report's asset id and updated_at as stored."""
    with app.app_context():
        row = db.session.execute(select(Report.asset_id, Report.updated_at)
                                 .where(Report.public_id == public_id)).one()
    return row[0], row[1]

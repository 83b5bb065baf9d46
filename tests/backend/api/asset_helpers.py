"""Assets for the staff API tests: two signals of the demo layer, and a report pointed at
one of them directly in the database.

(Reconstructed by the public-asset-API session after it overwrote this untracked file by
mistake; the names and signatures are those test_staff_assets.py uses.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Asset, AssetLayer, Report


def signals(app: Flask) -> tuple[Asset, Asset]:
    """The first two active signals of the demo layer `lsa-osm` (detached rows)."""
    with app.app_context():
        found = db.session.scalars(
            select(Asset).join(AssetLayer, AssetLayer.id == Asset.layer_id)
            .where(AssetLayer.code == "lsa-osm", Asset.retired_at.is_(None))
            .order_by(Asset.id).limit(2)).all()
        assert len(found) == 2, "the demo layer lsa-osm is not loaded"
        db.session.expunge_all()
        return found[0], found[1]


def point_at(app: Flask, public_id: str, asset_id: int | None, **values: Any) -> None:
    """Point a report at an asset (and set other columns, e.g. `created_at`, `status`)."""
    with app.app_context():
        db.session.execute(update(Report).where(Report.public_id == public_id)
                           .values(asset_id=asset_id, **values))
        db.session.commit()


def asset_of(app: Flask, public_id: str) -> tuple[int | None, datetime]:
    """A report's stored asset id and `updated_at`."""
    with app.app_context():
        row = db.session.execute(select(Report.asset_id, Report.updated_at)
                                 .where(Report.public_id == public_id)).one()
        return row[0], row[1]

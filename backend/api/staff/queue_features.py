"""Queue rows as GeoJSON features, with their assignees, thumbnails and assets (the queue and
the search answer the same items)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row

from backend.api.context import session, settings, snapshot
from backend.api.request_io import request_locale
from backend.api.staff.presenters import queue_feature
from backend.services.staff import queue as staff_queue


def queue_features(rows: list[Row], now: datetime,
                   near: tuple[float, float] | None = None) -> list[dict[str, Any]]:
    """One feature per row, in order (`near`: lon, lat for distances)."""
    people = staff_queue.assignees(session(), {r.assigned_to_id for r in rows
                                               if r.assigned_to_id})
    thumbs = staff_queue.queue_thumbnails(session(), rows)
    assets = staff_queue.queue_assets(session(), rows)
    snap, locale, base = snapshot(), request_locale(), settings().base_url
    return [queue_feature(r, snap, locale, base, now, people.get(r.assigned_to_id),
                          thumbs.get(r.id), near,
                          assets.get(r.asset_id) if r.asset_id else None)
            for r in rows]

"""Fill the aggregation cells of reports that lack them (rows from before the columns, or
after the city's metric CRS changed)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.models import Report
from backend.services.city_cache import city_snapshot
from geo.cells import h3_cells, metric_xy

BATCH = 5000


def fill_missing_cells(session: Session) -> int:
    """Compute x_m, y_m and h3_r10 where x_m is missing; returns how many rows (commits)."""
    crs = city_snapshot(session).metric_crs
    done = 0
    while True:
        rows = session.execute(
            select(Report.id, func.ST_X(Report.geom), func.ST_Y(Report.geom))
            .where(Report.x_m.is_(None)).order_by(Report.id).limit(BATCH)).all()
        if not rows:
            return done
        ids = [r[0] for r in rows]
        lons = [float(r[1]) for r in rows]
        lats = [float(r[2]) for r in rows]
        xs, ys = metric_xy(lons, lats, crs)
        cells = h3_cells(lons, lats)
        session.execute(update(Report), [
            {"id": i, "x_m": float(x), "y_m": float(y), "h3_r10": c}
            for i, x, y, c in zip(ids, xs, ys, cells, strict=True)])
        session.commit()
        done += len(rows)

"""Heatmap aggregation: reports counted per grid square or H3 hexagon, in the database.

Both backends group the same stored integers (metric coordinates divided by the cell size,
or the H3 cell's parent by bit arithmetic), so PostGIS and SpatiaLite give identical cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Float, Integer, case, cast, func, literal, select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput
from backend.models import Report
from backend.services.analytics_filter import ReportSelection
from backend.workflow import OPEN_STATUSES
from geo.cells import H3_RESOLUTIONS, h3_center, h3_parent_mask, h3_ring, square_centers
from geo.cells import square_rings as _square_rings

CELL_M_RANGE = (50, 2000)
OPEN_VALUES = sorted(s.value for s in OPEN_STATUSES)


@dataclass(frozen=True)
class CellSpec:
    """Square cells of `cell_m` metres, or H3 hexagons at `h3_res`."""

    cell_m: int | None = 100
    h3_res: int | None = None

    def __post_init__(self) -> None:
        if (self.cell_m is None) == (self.h3_res is None):
            raise InvalidInput("Choose square cells or H3 hexagons.",
                               {"cell_m": ["give cell_m or h3_res, not both"],
                                "h3_res": ["give cell_m or h3_res, not both"]})
        if self.cell_m is not None and not CELL_M_RANGE[0] <= self.cell_m <= CELL_M_RANGE[1]:
            raise InvalidInput("Cell size out of range.",
                               {"cell_m": [f"{CELL_M_RANGE[0]} to {CELL_M_RANGE[1]} metres"]})
        if self.h3_res is not None and self.h3_res not in H3_RESOLUTIONS:
            raise InvalidInput("H3 resolution out of range.",
                               {"h3_res": [f"{H3_RESOLUTIONS.start} to "
                                           f"{H3_RESOLUTIONS.stop - 1}"]})

    @property
    def label(self) -> str:
        """E.g. "100 m" or "H3 res 8"."""
        return f"{self.cell_m} m" if self.cell_m is not None else f"H3 res {self.h3_res}"


@dataclass(frozen=True)
class Cells:
    """The aggregated cells: keys and counts as parallel arrays (sorted by key)."""

    spec: CellSpec
    metric_crs: str
    ix: np.ndarray  # square column (or H3 cell id)
    iy: np.ndarray  # square row (zeros for H3)
    count: np.ndarray
    open: np.ndarray

    @property
    def closed(self) -> np.ndarray:
        """Reports in each cell that are not open."""
        return self.count - self.open

    @property
    def total(self) -> int:
        """All reports counted."""
        return int(self.count.sum())

    def cell_ids(self) -> list[str]:
        """Stable ids: "x_y" of the square in cell units, or the H3 index."""
        if self.spec.h3_res is not None:
            return [format(int(c), "x") for c in self.ix]
        return [f"{int(x)}_{int(y)}" for x, y in zip(self.ix, self.iy, strict=True)]

    def rings(self) -> list[list[list[float]]] | np.ndarray:
        """Each cell's polygon (lon/lat): an (n, 5, 2) array for squares, lists for H3."""
        if self.spec.h3_res is not None:
            return [h3_ring(int(c)) for c in self.ix]
        return _square_rings(self.ix, self.iy, self.spec.cell_m, self.metric_crs)

    def centers(self) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's centre (lon, lat)."""
        if self.spec.h3_res is not None:
            points = [h3_center(int(c)) for c in self.ix]
            return (np.array([p[0] for p in points]), np.array([p[1] for p in points]))
        return square_centers(self.ix, self.iy, self.spec.cell_m, self.metric_crs)


def _floor_div(dialect: str, column: Any, size: int) -> Any:
    """floor(column / size) as an integer on both backends."""
    # A float literal keeps the division in double precision (an integer would make
    # PostgreSQL divide in NUMERIC, several times slower).
    quotient = column / literal(float(size), Float)
    if dialect == "postgresql":
        return cast(func.floor(quotient), Integer)
    # SQLite without math functions: truncate, then step down for negative remainders.
    truncated = cast(quotient, Integer)
    return truncated - case((quotient < truncated, 1), else_=0)


def aggregate(session: Session, selection: ReportSelection, spec: CellSpec,
              metric_crs: str) -> Cells:
    """Count matching reports per cell (and how many of them are open)."""
    dialect = session.get_bind().dialect.name
    if spec.h3_res is not None:
        and_mask, or_bits = h3_parent_mask(spec.h3_res)
        keys = [Report.h3_r10.op("&")(literal(and_mask)).op("|")(literal(or_bits)).label("k1"),
                literal(0).label("k2")]
        present = Report.h3_r10.is_not(None)
    else:
        keys = [_floor_div(dialect, Report.x_m, spec.cell_m).label("k1"),
                _floor_div(dialect, Report.y_m, spec.cell_m).label("k2")]
        present = Report.x_m.is_not(None)
    is_open = case((Report.status.in_(OPEN_VALUES), 1), else_=0)
    inner = (select(*keys, is_open.label("is_open"))
             .where(present, selection.condition()).subquery())
    rows = session.execute(
        select(inner.c.k1, inner.c.k2, func.count(), func.sum(inner.c.is_open))
        .group_by(inner.c.k1, inner.c.k2)).all()
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return Cells(spec, metric_crs, empty, empty, empty, empty)
    # Plain tuples: numpy probing SQLAlchemy rows item by item costs more than the query.
    data = np.array([tuple(r) for r in rows], dtype=np.int64)
    data = data[np.lexsort((data[:, 1], data[:, 0]))]  # sorted by key, in numpy
    return Cells(spec, metric_crs, data[:, 0], data[:, 1], data[:, 2], data[:, 3])


def matching_count(session: Session, selection: ReportSelection) -> int:
    """How many reports the selection matches (to decide between answering now and a job)."""
    return session.scalar(select(func.count()).select_from(Report)
                          .where(selection.condition())) or 0

"""The newest reports in a box that match a filter, chosen from the process's `Points`.

A grid over the city holds the positions of the points per cell (sorted once, by cell), so a
street-sized box looks at a few hundred points; points that moved or arrived since the grid
was built are looked at besides. A box over most of the city walks the newest points instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.services.public_map.points import STATUS_INDEX, Points

SIDE = 256  # cells per side of the grid
REBUILD_AFTER = 20_000  # moved or appended points since the grid was built
WALK_ABOVE = 40_000  # candidates in the box's cells: walk the newest points instead
_CHUNK = 8192


@dataclass(frozen=True)
class PageFilter:
    """What a page of the map list asks for."""

    bbox: tuple[float, float, float, float] | None = None
    statuses: frozenset[str] | None = None
    category_ids: frozenset[int] | None = None
    updated_after: int | None = None  # microseconds since the epoch
    before_id: int | None = None
    limit: int = 100


@dataclass(frozen=True)
class Grid:
    """Positions of the points per cell (`order` sorted by cell; `starts[c]` is where cell c
    begins), for the first `covered` positions."""

    covered: int
    x0: float
    y0: float
    dx: float
    dy: float
    order: np.ndarray
    starts: np.ndarray

    @classmethod
    def build(cls, points: Points) -> Grid:
        n = len(points.ids)
        if not n:
            return cls(0, 0.0, 0.0, 1.0, 1.0, np.zeros(0, np.int64),
                       np.zeros(SIDE * SIDE + 1, np.int64))
        x0, y0 = float(points.lon.min()), float(points.lat.min())
        dx = max(float(points.lon.max()) - x0, 1e-9) / SIDE * (1 + 1e-9)
        dy = max(float(points.lat.max()) - y0, 1e-9) / SIDE * (1 + 1e-9)
        cell = cls._cells(points.lon, points.lat, x0, y0, dx, dy)
        order = np.argsort(cell, kind="stable")
        starts = np.searchsorted(cell[order], np.arange(SIDE * SIDE + 1))
        return cls(n, x0, y0, dx, dy, order, starts)

    @staticmethod
    def _cells(lon: np.ndarray, lat: np.ndarray, x0: float, y0: float, dx: float,
               dy: float) -> np.ndarray:
        gx = np.clip(((lon - x0) / dx).astype(np.int64), 0, SIDE - 1)
        gy = np.clip(((lat - y0) / dy).astype(np.int64), 0, SIDE - 1)
        return gy * SIDE + gx

    def slices(self, box: tuple[float, float, float, float]) -> list[tuple[int, int]]:
        """The (start, end) ranges of `order` for the cells the box touches."""
        minx, miny, maxx, maxy = box
        cx0 = max(int((minx - self.x0) // self.dx), 0)
        cx1 = min(int((maxx - self.x0) // self.dx), SIDE - 1)
        cy0 = max(int((miny - self.y0) // self.dy), 0)
        cy1 = min(int((maxy - self.y0) // self.dy), SIDE - 1)
        if cx0 > cx1 or cy0 > cy1:
            return []
        return [(int(self.starts[gy * SIDE + cx0]), int(self.starts[gy * SIDE + cx1 + 1]))
                for gy in range(cy0, cy1 + 1)]


def _matching(points: Points, pos: np.ndarray, flt: PageFilter) -> np.ndarray:
    """The positions among `pos` that match the filter (and the box)."""
    keep = np.ones(len(pos), bool)
    if flt.bbox is not None:
        minx, miny, maxx, maxy = flt.bbox
        lon, lat = points.lon[pos], points.lat[pos]
        keep &= (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
    if flt.statuses is not None:
        keep &= np.isin(points.status[pos], [STATUS_INDEX[s] for s in flt.statuses])
    if flt.category_ids is not None:
        keep &= np.isin(points.category[pos], list(flt.category_ids))
    if flt.updated_after is not None:
        keep &= points.updated[pos] >= flt.updated_after
    return pos[keep]


def _built(points: Points, name: str, changed: str, kind: type[Any]) -> Any:
    """The order `name` of the points (a `kind`), built again when missing or when too many
    points were added or `changed` since."""
    built = getattr(points, name)
    if not isinstance(built, kind) or (
            len(getattr(points, changed)) + len(points.ids) - built.covered > REBUILD_AFTER):
        built = kind.build(points)
        setattr(points, name, built)
        setattr(points, changed, set())
    return built


def _grid(points: Points) -> Grid:
    return _built(points, "grid", "moved", Grid)


def _box_candidates(points: Points, bbox: tuple[float, float, float, float], want: int
                    ) -> np.ndarray | None:
    """The positions in the grid cells the box touches, and those moved or added since the
    grid was built, sorted; None when walking the newest points is cheaper."""
    grid = _grid(points)
    ranges = grid.slices(bbox)
    if not _few_enough(points, ranges, want):
        return None
    pos = np.concatenate([grid.order[a:b] for a, b in ranges]
                         + [np.arange(grid.covered, len(points.ids))])
    if points.moved:  # a moved point is in its old cell too
        return np.unique(np.concatenate([pos, np.array(sorted(points.moved))]))
    return np.sort(pos)


def prepare(points: Points) -> None:
    """Build the grid and the order by creation time now (each is built on first use)."""
    _grid(points)
    _by_created(points)


def _few_enough(points: Points, ranges: list[tuple[int, int]], want: int) -> bool:
    """Whether looking at the box's cells beats walking the newest points: a walk expects to
    look at want × (all points / points in the cells) before it has its page."""
    candidates = sum(b - a for a, b in ranges)
    return candidates <= WALK_ABOVE and candidates * candidates <= want * len(points.ids)


def page(points: Points, flt: PageFilter) -> list[int]:
    """The ids of up to `limit + 1` matching reports, newest (largest id) first."""
    end = (int(np.searchsorted(points.ids, flt.before_id)) if flt.before_id is not None
           else len(points.ids))
    want = flt.limit + 1
    if flt.bbox is not None:
        pos = _box_candidates(points, flt.bbox, want)
        if pos is not None:
            found = _matching(points, pos[pos < end], flt)[::-1][:want]
            return points.ids[found].tolist()
    found_ids: list[int] = []
    while end > 0 and len(found_ids) < want:  # the newest first, a chunk at a time
        start = max(end - _CHUNK, 0)
        hits = _matching(points, np.arange(start, end), flt)[::-1]
        found_ids += points.ids[hits[: want - len(found_ids)]].tolist()
        end = start
    return found_ids


# ------------------------------------------------------------------ Open311: by creation time

@dataclass(frozen=True)
class RequestFilter:
    """What a page of Open311 requests asks for (times in microseconds since the epoch)."""

    start: int
    end: int  # both inclusive
    statuses: frozenset[str] | None = None
    category_ids: frozenset[int] | None = None
    bbox: tuple[float, float, float, float] | None = None
    updated_after: int | None = None  # inclusive
    updated_before: int | None = None  # exclusive
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True)
class ByCreated:
    """The first `covered` positions sorted by (creation time, id), and their times."""

    covered: int
    order: np.ndarray
    created: np.ndarray

    @classmethod
    def build(cls, points: Points) -> ByCreated:
        order = np.lexsort((points.ids, points.created))
        return cls(len(points.ids), order, points.created[order])


def _by_created(points: Points) -> ByCreated:
    return _built(points, "by_created", "retimed", ByCreated)


def _requests_matching(points: Points, pos: np.ndarray, q: RequestFilter) -> np.ndarray:
    created = points.created[pos]
    keep = (created >= q.start) & (created <= q.end)
    if q.updated_after is not None:
        keep &= points.updated[pos] >= q.updated_after
    if q.updated_before is not None:
        keep &= points.updated[pos] < q.updated_before
    pos = pos[keep]
    return _matching(points, pos, PageFilter(bbox=q.bbox, statuses=q.statuses,
                                             category_ids=q.category_ids))


def _newest(points: Points, pos: np.ndarray, count: int) -> np.ndarray:
    """The `count` positions of `pos` with the latest (creation time, id)."""
    order = np.lexsort((points.ids[pos], points.created[pos]))[::-1]
    return pos[order[:count]]


def requests_page(points: Points, q: RequestFilter) -> list[int]:
    """The ids of the page's reports, newest created first (ties: the larger id first)."""
    want = q.offset + q.limit
    if q.bbox is not None:
        pos = _box_candidates(points, q.bbox, want)
        if pos is not None:
            found = _newest(points, _requests_matching(points, pos, q), want)
            return points.ids[found[q.offset:]].tolist()
    built = _by_created(points)
    # Appended or re-timed since the order was built: not in it (or not in their place).
    extra = np.concatenate([np.arange(built.covered, len(points.ids)),
                            np.array(sorted(points.retimed), np.int64)])
    end = int(np.searchsorted(built.created, q.end, side="right"))
    stop = int(np.searchsorted(built.created, q.start, side="left"))
    found: list[np.ndarray] = []
    have = 0
    while end > stop and have < want:  # newest first, a chunk at a time
        start = max(end - _CHUNK, stop)
        chunk = built.order[start:end][::-1]
        if points.retimed:
            chunk = chunk[~np.isin(chunk, extra)]
        hits = _requests_matching(points, chunk, q)
        found.append(hits)
        have += len(hits)
        end = start
    pos = np.concatenate([*found, _requests_matching(points, extra, q)]) if found or len(
        extra) else np.zeros(0, np.int64)
    return points.ids[_newest(points, pos, want)[q.offset:]].tolist()

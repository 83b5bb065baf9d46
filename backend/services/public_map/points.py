"""Every report's position, status, category and last change, as arrays in this process.

Loaded once from the `report` table, then kept exact by following `report_change` (see
changes.py): the reports named there are read again (or dropped, when they are gone). The map's
lists and clusters are chosen from these arrays; the database only hands over the rendered
features (see features.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from backend.db.statements import Source, dialect_of, rows
from backend.services.public_map.changes import ChangeFeed
from backend.workflow import Status

log = logging.getLogger(__name__)
STATUSES = [s.value for s in Status]
STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS = {  # microseconds since the epoch (SQLite: the stored text, parsed by numpy)
    "sqlite": "r.{0}",
    "postgresql": "CAST(EXTRACT(EPOCH FROM r.{0}) * 1000000 AS BIGINT)",
}
_SELECT = ("SELECT r.id, ST_X(r.geom), ST_Y(r.geom), r.status, r.category_id, {updated}, "
           "{created} FROM report r")
_COLUMNS = ("ids", "lon", "lat", "status", "category", "updated", "created")
_BATCH = 500


def micros(value: datetime) -> int:
    """A timestamp as microseconds since the epoch, exactly (a naive one is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(microseconds=1)


def micros_or_none(value: datetime | None) -> int | None:
    """`micros` of a timestamp that may be missing."""
    return None if value is None else micros(value)


@dataclass
class Points:
    """Parallel arrays, sorted by report id. `version` grows with every change (caches of
    answers derived from the points are keyed by it)."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    status: np.ndarray  # index into STATUSES
    category: np.ndarray
    updated: np.ndarray  # microseconds since the epoch
    created: np.ndarray  # microseconds since the epoch
    version: int = 0
    # Positions whose place (`moved`) or creation time (`retimed`) changed since `grid` or
    # `by_created` was built (see pages): a query looks at these besides the built order, like
    # at the positions appended since.
    moved: set[int] = field(default_factory=set)
    retimed: set[int] = field(default_factory=set)
    grid: object | None = None
    by_created: object | None = None

    @classmethod
    def from_rows(cls, found: list[tuple], dialect: str, version: int = 0) -> Points:
        """From (id, lon, lat, status, category id, updated, created) rows ordered by id."""

        def times(column: int) -> np.ndarray:
            values = [row[column] for row in found]
            if not values:
                return np.zeros(0, np.int64)
            if dialect == "sqlite":
                return np.array(values, dtype="datetime64[us]").astype(np.int64)
            return np.array(values, dtype=np.int64)

        return cls(
            np.fromiter((row[0] for row in found), np.int64, len(found)),
            np.fromiter((row[1] for row in found), np.float64, len(found)),
            np.fromiter((row[2] for row in found), np.float64, len(found)),
            np.fromiter((STATUS_INDEX[row[3]] for row in found), np.int8, len(found)),
            np.fromiter((row[4] for row in found), np.int64, len(found)),
            times(5), times(6), version,
        )

    def apply(self, changed: Iterable[int], current: Points) -> None:
        """Bring the reports `changed` to their `current` state (absent there: deleted)."""
        changed = np.array(sorted(changed), np.int64)
        at = np.searchsorted(self.ids, changed)
        inside = at < len(self.ids)
        known = np.zeros(len(changed), bool)
        known[inside] = self.ids[at[inside]] == changed[inside]
        gone = changed[known & ~np.isin(changed, current.ids)]
        fresh = ~np.isin(current.ids, self.ids[at[known]]) if len(current.ids) else \
            np.zeros(0, bool)
        # Reports still here: updated in place.
        where = np.searchsorted(self.ids, current.ids[~fresh])
        moved = (self.lon[where] != current.lon[~fresh]) | (self.lat[where] != current.lat[~fresh])
        retimed = self.created[where] != current.created[~fresh]
        for name in _COLUMNS[1:]:
            getattr(self, name)[where] = getattr(current, name)[~fresh]
        self.moved.update(int(p) for p in where[moved])
        self.retimed.update(int(p) for p in where[retimed])
        if len(gone) or (fresh.any() and len(self.ids)
                         and current.ids[fresh].min() < self.ids[-1]):
            self._rebuild(gone, current, fresh)  # positions shift: the grid is rebuilt
        elif fresh.any():  # new reports have the largest ids: appended
            for name in _COLUMNS:
                setattr(self, name, np.concatenate([getattr(self, name),
                                                    getattr(current, name)[fresh]]))
        self.version += 1

    def _rebuild(self, gone: np.ndarray, current: Points, fresh: np.ndarray) -> None:
        keep = ~np.isin(self.ids, gone)
        order = np.argsort(np.concatenate([self.ids[keep], current.ids[fresh]]), kind="stable")
        for name in _COLUMNS:
            merged = np.concatenate([getattr(self, name)[keep], getattr(current, name)[fresh]])
            setattr(self, name, merged[order])
        self.grid, self.moved, self.by_created, self.retimed = None, set(), None, set()


class PointIndex:
    """The process's `Points`, brought up to date on demand (thread-safe)."""

    def __init__(self) -> None:
        self.points = Points.from_rows([], "sqlite")
        self.feed = ChangeFeed()
        self.lock = threading.Lock()
        self.listeners: list = []  # called with the changed ids (None: everything) under lock

    def refresh(self, source: Source) -> Points:
        """The points as of now (the caller holds `lock` while it uses them): the reports
        changed since the last call are read again; on the first call (or after a long
        pause) everything is loaded."""
        changed = self.feed.look(source)
        if changed is not None and not changed:  # the usual case: nothing changed
            return self.points
        dialect = dialect_of(source)
        sql = _SELECT.format(updated=_MICROS[dialect].format("updated_at"),
                             created=_MICROS[dialect].format("created_at"))
        if changed is None:
            started = time.perf_counter()
            version = self.points.version + 1
            self.points = Points.from_rows(rows(source, sql + " ORDER BY r.id"), dialect,
                                           version)
            log.info("public map index: loaded %d report(s) in %.1f s", len(self.points.ids),
                     time.perf_counter() - started)
        else:
            ids = sorted(changed)
            found: list[tuple] = []
            for start in range(0, len(ids), _BATCH):
                batch = ids[start:start + _BATCH]
                found += rows(source, sql + f" WHERE r.id IN ({','.join(map(str, batch))})"
                                      " ORDER BY r.id")
            self.points.apply(changed, Points.from_rows(found, dialect))
        for listener in self.listeners:
            listener(changed)
        return self.points

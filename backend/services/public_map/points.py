"""Every report's position, status, category and last change, as arrays in this process.

Loaded once, then kept current from `report_public`: each (re)rendering of a report's views
gets a new revision, so the rows with a revision above the last one seen are exactly the
reports that changed since (a report whose view is missing for a moment keeps its previous
state here until it is rendered again).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from backend.db.statements import Source, dialect_of, rows
from backend.workflow import Status

STATUSES = [s.value for s in Status]
STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
_EPOCH = {
    "sqlite": "CAST(strftime('%s', r.updated_at) AS INTEGER)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM r.updated_at) AS BIGINT)",
}
_CHANGED = ("SELECT v.revision, r.id, ST_X(r.geom), ST_Y(r.geom), r.status, r.category_id, "
            "{epoch} FROM report_public v JOIN report r ON r.id = v.report_id "
            "WHERE v.revision > :after ORDER BY v.revision")
_LATEST = "SELECT max(revision) FROM report_public"


@dataclass
class Points:
    """Parallel arrays, sorted by report id."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    status: np.ndarray  # index into STATUSES
    category: np.ndarray
    updated: np.ndarray  # seconds since the epoch
    revision: int = 0

    @classmethod
    def empty(cls) -> Points:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int8),
                   np.zeros(0, np.int64), np.zeros(0, np.int64))

    def merge(self, rows: list) -> None:
        """Apply changed rows (revision, id, lon, lat, status, category, updated)."""
        latest: dict[int, tuple] = {}
        for row in rows:  # ordered by revision: the last one of a report wins
            latest[int(row[1])] = row
        ids = np.fromiter(latest, np.int64, len(latest))
        values = list(latest.values())
        lon = np.array([float(v[2]) for v in values])
        lat = np.array([float(v[3]) for v in values])
        status = np.array([STATUS_INDEX[v[4]] for v in values], np.int8)
        category = np.array([int(v[5]) for v in values], np.int64)
        updated = np.array([int(v[6]) for v in values], np.int64)
        at = np.searchsorted(self.ids, ids)
        known = (at < len(self.ids)) & (self.ids[np.minimum(at, len(self.ids) - 1)] == ids) \
            if len(self.ids) else np.zeros(len(ids), bool)
        for name, new in (("lon", lon), ("lat", lat), ("status", status),
                          ("category", category), ("updated", updated)):
            getattr(self, name)[at[known]] = new[known]
        fresh = ~known
        if fresh.any():
            order = np.argsort(np.concatenate([self.ids, ids[fresh]]), kind="stable")
            self.ids = np.concatenate([self.ids, ids[fresh]])[order]
            for name, new in (("lon", lon), ("lat", lat), ("status", status),
                              ("category", category), ("updated", updated)):
                setattr(self, name, np.concatenate([getattr(self, name), new[fresh]])[order])
        self.revision = max(self.revision, max(int(v[0]) for v in rows))


class PointIndex:
    """The process's `Points`, brought up to date on demand (thread-safe)."""

    def __init__(self) -> None:
        self.points = Points.empty()
        self._lock = threading.Lock()

    def current(self, session: Source) -> Points:
        """The points as of now: the changed rows since the last call are merged first; if
        the table went backwards (a restored or reset database), everything is reloaded."""
        latest = rows(session, _LATEST)[0][0] or 0
        if latest == self.points.revision:
            return self.points
        with self._lock:
            if latest < self.points.revision:
                self.points = Points.empty()
            if latest > self.points.revision:
                sql = _CHANGED.format(epoch=_EPOCH[dialect_of(session)])
                changed = rows(session, sql, {"after": self.points.revision})
                if changed:
                    self.points.merge(changed)
            return self.points

"""A stored view of reports (the map feature, the Open311 request), kept in this process after
its first read, as stored (with markers) and as answered (expanded for a language and base
URL).

A feature leaves the cache when its report shows up in `report_change` (the point index calls
`forget`); a read that overlapped such a change does not store what it read, so nothing stale
is ever kept. A report without a stored view is rendered from the database and not kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from backend.db.statements import Source, dialect_of, rows
from backend.services.public_views.read import View, complete

CAPACITY = 50_000  # views per form (a map feature is about 400 bytes, a request 1 KB)
EXPANSIONS = 4  # languages × base URLs × configuration versions kept
_SQL = {
    "sqlite": "SELECT report_id, {view} FROM report_public WHERE report_id IN ({ids})",
    "postgresql": "SELECT report_id, {view} FROM report_public "
                  "WHERE report_id = ANY('{{{ids}}}'::bigint[])",
}


class FeatureCache:
    """Report id → stored view, and per expansion key → the expanded view."""

    def __init__(self, view: View = "feature", capacity: int = CAPACITY) -> None:
        self.view = view
        self.capacity = capacity
        self._features: dict[int, str] = {}
        self._expanded: dict[str, dict[int, bytes]] = {}
        self._generation = 0  # grows with every forgetting
        self._lock = threading.Lock()

    def forget(self, report_ids: Iterable[int] | None) -> None:
        """Drop these reports' features (None: all of them)."""
        with self._lock:
            self._generation += 1
            if report_ids is None:
                self._features.clear()
                self._expanded.clear()
                return
            tables = [self._features, *self._expanded.values()]
            for report_id in report_ids:
                for table in tables:
                    table.pop(report_id, None)

    def _keep(self, table: dict, new: dict, generation: int) -> None:
        """Store what was read, unless a change was forgotten since the read began (it may
        be older than that change); over capacity the oldest half goes first."""
        with self._lock:
            if generation != self._generation:
                return
            if len(table) + len(new) > self.capacity:
                for key in list(table)[: len(table) // 2]:
                    del table[key]
            table.update(new)

    def stored(self, source: Source, report_ids: list[int]) -> list[tuple[int, str | None]]:
        """(id, stored feature or None where the report has no stored view), in order."""
        features = self._features
        missing = [i for i in report_ids if i not in features]
        if not missing:
            # A feature forgotten meanwhile reads as missing: rendered from the database.
            return [(i, features.get(i)) for i in report_ids]
        generation = self._generation
        sql = _SQL[dialect_of(source)].format(view=self.view, ids=",".join(map(str, missing)))
        found = dict(rows(source, sql))
        self._keep(features, found, generation)
        return [(i, found.get(i) or features.get(i)) for i in report_ids]

    def expanded(self, source: Source, report_ids: list[int],
                 expand: Callable[[bytes], bytes], key: str) -> list[tuple[int, bytes]]:
        """(id, view expanded by `expand` (named `key`)) of each report, in order; a report
        that no longer exists is left out."""
        table = self._expanded.get(key)
        if table is None:
            with self._lock:
                if len(self._expanded) >= EXPANSIONS:
                    self._expanded.pop(next(iter(self._expanded)))
                table = self._expanded.setdefault(key, {})
        missing = [i for i in report_ids if i not in table]
        if missing:
            generation = self._generation
            new: dict[int, bytes] = {}
            live: dict[int, bytes] = {}
            for report_id, feature in self.stored(source, missing):
                if feature is not None:
                    new[report_id] = expand(feature.encode())
                else:  # no stored view: rendered now, not kept
                    for rendered in complete(source, [(report_id, None)], self.view):
                        live[report_id] = expand(rendered.encode())
            self._keep(table, new, generation)
            new.update(live)
            return [(i, found) for i in report_ids
                    if (found := new.get(i) or table.get(i)) is not None]
        return [(i, found) for i in report_ids if (found := table.get(i)) is not None]

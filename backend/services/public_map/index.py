"""One web process's map index: the points, the cached features and the cluster counts."""

from __future__ import annotations

from collections.abc import Callable

from backend.db.statements import Source
from backend.services.public_map.clusters import CellCounts, ClusterCache, ClusterFilter
from backend.services.public_map.features import FeatureCache
from backend.services.public_map.pages import (
    PageFilter,
    RequestFilter,
    page,
    prepare,
    requests_page,
)
from backend.services.public_map.points import PointIndex
from backend.services.public_views.render import with_extensions


class MapIndex:
    """The public map's reads: each first brings the points up to date (the reports changed
    since the last read are read again, their cached features forgotten)."""

    def __init__(self) -> None:
        self.points = PointIndex()
        self.features = FeatureCache("feature")
        self.requests = FeatureCache("open311")
        self.extensions = FeatureCache("open311_ext")
        self.clusters = ClusterCache()
        for cache in (self.features, self.requests, self.extensions):
            self.points.listeners.append(cache.forget)

    def warm(self, source: Source) -> None:
        """Load the points and build the orders pages are chosen by."""
        with self.points.lock:
            prepare(self.points.refresh(source))

    def page_ids(self, source: Source, flt: PageFilter) -> tuple[list[int], int | None]:
        """Newest first: the page's report ids and the id to continue before (or None)."""
        with self.points.lock:
            ids = page(self.points.refresh(source), flt)
        if len(ids) > flt.limit:
            return ids[: flt.limit], ids[flt.limit - 1]
        return ids, None

    def page(self, source: Source, flt: PageFilter, expand: Callable[[bytes], bytes],
             key: str) -> tuple[list[bytes], int | None]:
        """Newest first: the page's features expanded by `expand` (named `key`), and the id
        to continue before (or None)."""
        ids, next_id = self.page_ids(source, flt)
        return [f for _, f in self.features.expanded(source, ids, expand, key)], next_id

    def request_page(self, source: Source, q: RequestFilter, expand: Callable[[bytes], bytes],
                     key: str, extensions: bool) -> list[bytes]:
        """Open311: the page's requests expanded by `expand` (named `key`), newest created
        first, with their extended attributes if asked."""
        with self.points.lock:
            ids = requests_page(self.points.refresh(source), q)
        found = self.requests.expanded(source, ids, expand, key)
        if not extensions:
            return [request for _, request in found]
        extended = dict(self.extensions.expanded(source, [i for i, _ in found], expand, key))
        return [with_extensions(request, extended[i]) for i, request in found if i in extended]

    def cells(self, source: Source, flt: ClusterFilter) -> CellCounts:
        """The city's non-empty cells at the filter's zoom."""
        with self.points.lock:
            return self.clusters.cells(self.points.refresh(source), flt)

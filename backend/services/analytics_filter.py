"""The analysts' report filter, turned into SQL conditions (shared by heatmaps and figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from backend.models import Report


@dataclass(frozen=True)
class ReportSelection:
    """Which reports an analysis looks at; None means no restriction."""

    start: datetime | None = None  # created at or after
    end: datetime | None = None  # created before
    category_ids: frozenset[int] | None = None
    district_ids: frozenset[int] | None = None
    department_ids: frozenset[int] | None = None
    statuses: frozenset[str] | None = None

    def condition(self) -> ColumnElement[bool]:
        """The WHERE clause."""
        parts: list[Any] = []
        if self.start is not None:
            parts.append(Report.created_at >= self.start)
        if self.end is not None:
            parts.append(Report.created_at < self.end)
        for column, values in ((Report.category_id, self.category_ids),
                               (Report.district_id, self.district_ids),
                               (Report.department_id, self.department_ids),
                               (Report.status, self.statuses)):
            if values is not None:
                parts.append(column.in_(sorted(values)))
        return and_(*parts) if parts else true()

    def describe(self) -> dict[str, Any]:
        """The filter as plain data (cache keys, titles, file metadata)."""
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "category_ids": sorted(self.category_ids) if self.category_ids is not None else None,
            "district_ids": sorted(self.district_ids) if self.district_ids is not None else None,
            "department_ids": sorted(self.department_ids)
            if self.department_ids is not None else None,
            "statuses": sorted(self.statuses) if self.statuses is not None else None,
        }

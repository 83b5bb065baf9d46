"""Service-level figures: volume, backlog, time to acknowledge and to resolve (median, 90th
percentile), the share of reports past their target, and the fix rate (see
`backend.services.outcomes.fix_rate`) — overall, per district, per category and per department.

Counting and the per-report times come from SQL (times as epoch seconds, so no datetime
objects are built per row); percentiles are computed with numpy the same way for both
backends (linear interpolation, like PostgreSQL's percentile_cont).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Float, case, cast, func, select
from sqlalchemy.orm import Session

from backend.models import Report, ReportEvent
from backend.services.analytics_filter import ReportSelection
from backend.services.city_cache import CitySnapshot
from backend.services.outcomes.fix_rate import fix_figures, verdicts
from backend.workflow import OPEN_STATUSES, Status

STAFF_REACTIONS = [Status.ACKNOWLEDGED.value, Status.IN_PROGRESS.value, Status.RESOLVED.value,
                   Status.REJECTED.value]
OPEN_VALUES = sorted(s.value for s in OPEN_STATUSES)
STATUS_VALUES = [s.value for s in Status]


def _epoch(dialect: str, column: Any) -> ColumnElement[float]:
    """Seconds since 1970 as a float, on both backends."""
    if dialect == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


@dataclass(frozen=True)
class Timings:
    """Per report, as parallel arrays."""

    district: np.ndarray
    category: np.ndarray
    department: np.ndarray
    status: np.ndarray  # index into STATUS_VALUES
    acknowledge_h: np.ndarray  # NaN when never acknowledged
    resolve_h: np.ndarray  # NaN when never resolved
    past_target: np.ndarray  # bool
    outcome: np.ndarray  # index into OUTCOME_VALUES, -1 while open
    verdict: np.ndarray  # fix rate: 1 counts for, 0 against, -1 not counted
    reporter_not_fixed: np.ndarray  # bool: the reporter said "not fixed" at least once


def report_timings(session: Session, selection: ReportSelection, now: float | None = None
                   ) -> Timings:
    """Times per selected report."""
    dialect = session.get_bind().dialect.name
    now = now if now is not None else time.time()
    events = (
        select(ReportEvent.report_id.label("report_id"),
               func.min(case((ReportEvent.to_status.in_(STAFF_REACTIONS), ReportEvent.at)))
               .label("ack_at"),
               func.min(case((ReportEvent.to_status == Status.RESOLVED.value, ReportEvent.at)))
               .label("resolved_at"))
        .join(Report, Report.id == ReportEvent.report_id)
        .where(selection.condition())
        .group_by(ReportEvent.report_id).subquery())
    created = _epoch(dialect, Report.created_at)
    rows = session.execute(
        select(Report.district_id, Report.category_id, Report.department_id, Report.status,
               created,
               cast(_epoch(dialect, Report.due_at), Float),
               cast(_epoch(dialect, events.c.ack_at), Float),
               cast(_epoch(dialect, events.c.resolved_at), Float),
               cast(_epoch(dialect, Report.updated_at), Float),
               Report.reject_reason, Report.reporter_reopens)
        .outerjoin(events, events.c.report_id == Report.id)
        .where(selection.condition())).all()
    if not rows:
        empty = np.zeros(0)
        return Timings(empty.astype(int), empty.astype(int), empty.astype(int),
                       empty.astype(int), empty, empty, empty.astype(bool), empty.astype(int),
                       empty.astype(int), empty.astype(bool))
    status_index = {s: i for i, s in enumerate(STATUS_VALUES)}
    district = np.array([r[0] if r[0] is not None else -1 for r in rows])
    category = np.array([r[1] for r in rows])
    department = np.array([r[2] for r in rows])
    status = np.array([status_index[r[3]] for r in rows])
    numbers = np.array([[np.nan if v is None else float(v) for v in r[4:9]] for r in rows])
    outcome, verdict, reopened = verdicts([(r[3], r[9], r[10]) for r in rows])
    created_s, due_s, ack_s, resolved_s, updated_s = numbers.T
    is_open = np.isin(status, [status_index[s] for s in OPEN_VALUES])
    # When the clock stopped: resolution, else the last change of a closed report, else now.
    end = np.where(~np.isnan(resolved_s), resolved_s, np.where(is_open, now, updated_s))
    past = ~np.isnan(due_s) & (end > due_s)
    return Timings(district, category, department, status, (ack_s - created_s) / 3600.0,
                   (resolved_s - created_s) / 3600.0, past, outcome, verdict, reopened)


def _percentiles(hours: np.ndarray) -> dict[str, float | None]:
    known = hours[~np.isnan(hours)]
    if not len(known):
        return {"median": None, "p90": None}
    median, p90 = np.percentile(known, [50, 90], method="linear")
    return {"median": round(float(median), 2), "p90": round(float(p90), 2)}


def _figures(t: Timings, mask: np.ndarray) -> dict[str, Any]:
    statuses = t.status[mask]
    counts = np.bincount(statuses, minlength=len(STATUS_VALUES))
    open_count = int(sum(counts[STATUS_VALUES.index(s)] for s in OPEN_VALUES))
    total = int(mask.sum())
    return {
        "reports": total,
        "open": open_count,
        "closed": total - open_count,
        "by_status": {s: int(counts[i]) for i, s in enumerate(STATUS_VALUES)},
        "acknowledge_h": _percentiles(t.acknowledge_h[mask]),
        "resolve_h": _percentiles(t.resolve_h[mask]),
        "past_target_share": round(float(t.past_target[mask].mean()), 4) if total else None,
        **fix_figures(t.outcome[mask], t.verdict[mask], t.reporter_not_fixed[mask]),
    }


def summary(session: Session, selection: ReportSelection, snapshot: CitySnapshot,
            locale: str, now: float | None = None) -> dict[str, Any]:
    """Every figure, overall and per district and category (rows only where reports are)."""
    t = report_timings(session, selection, now)
    everything = np.ones(len(t.status), dtype=bool)
    by_district = []
    for district_id in sorted(set(t.district.tolist()),
                              key=lambda i: snapshot.districts_by_id[i].number
                              if i in snapshot.districts_by_id else "~"):
        info = snapshot.districts_by_id.get(district_id)
        by_district.append({"key": info.number if info else None,
                            "name": info.name if info else None,
                            **_figures(t, t.district == district_id)})
    by_category = []
    for category_id in sorted(set(t.category.tolist()),
                              key=lambda i: snapshot.categories_by_id[i].position):
        info = snapshot.categories_by_id[category_id]
        by_category.append({"key": info.code, "name": info.name.get(locale),
                            "group": info.group.code,
                            **_figures(t, t.category == category_id)})
    by_department = []
    for department_id in sorted(set(t.department.tolist()),
                                key=lambda i: snapshot.departments_by_id[i].code):
        info = snapshot.departments_by_id[department_id]
        by_department.append({"key": info.code, "name": info.name.get(locale),
                              **_figures(t, t.department == department_id)})
    return {"filters": selection.describe(), "totals": _figures(t, everything),
            "by_district": by_district, "by_category": by_category,
            "by_department": by_department}


CSV_COLUMNS = ["dimension", "key", "name", "reports", "open", "closed",
               "acknowledge_median_h", "acknowledge_p90_h", "resolve_median_h",
               "resolve_p90_h", "past_target_share", "fix_rate", "reporter_not_fixed"]


def summary_rows(figures: dict[str, Any]) -> list[list[Any]]:
    """The summary as CSV rows (header first)."""
    rows: list[list[Any]] = [CSV_COLUMNS]
    for dimension in ("district", "category", "department"):
        for item in figures[f"by_{dimension}"]:
            rows.append([dimension, item["key"], item["name"], item["reports"], item["open"],
                         item["closed"], item["acknowledge_h"]["median"],
                         item["acknowledge_h"]["p90"], item["resolve_h"]["median"],
                         item["resolve_h"]["p90"], item["past_target_share"],
                         item["fix_rate"], item["reporter_not_fixed"]])
    return rows

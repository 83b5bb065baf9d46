"""Heatmap files (GeoJSON, CSV, PNG): built now or by a worker, cached until the data changes.

A file is named by a hash of the request and the data version (the newest report id and the
latest change), so an identical request is served from storage until a report arrives or
changes; large requests are handed to an rq job and fetched when ready.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.media.storage import PhotoStorage
from backend.models import District, Report
from backend.queue import JobQueue
from backend.services.analytics_filter import ReportSelection
from backend.services.city_cache import last_snapshot
from backend.services.heatmap import Cells, CellSpec, aggregate
from geo.crs import LONLAT, transformer
from geo.heatmap_image import RENDER_VERSION, HeatmapPicture, render_heatmap

FORMATS = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8",
           "png": "image/png"}
EXTENSIONS = {"geojson": "geojson", "csv": "csv", "png": "png"}
JOB = "workers.analytics_jobs.build_heatmap"


@dataclass(frozen=True)
class HeatmapRequest:
    """Everything that determines a heatmap file."""

    selection: ReportSelection
    spec: CellSpec
    fmt: str = "geojson"
    width: int = 1200
    height: int = 1000
    title: str = "Mängelmelder"
    filters_text: str = ""
    attribution: str = ""
    legend: str = "Meldungen/km²"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a job argument (and the cache key)."""
        data = asdict(self)
        data["selection"] = self.selection.describe()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeatmapRequest:
        """The inverse of `to_dict`."""
        sel = data["selection"]

        def ids(name: str) -> frozenset | None:
            return frozenset(sel[name]) if sel[name] is not None else None
        selection = ReportSelection(
            start=datetime.fromisoformat(sel["from"]) if sel["from"] else None,
            end=datetime.fromisoformat(sel["to"]) if sel["to"] else None,
            category_ids=ids("category_ids"), district_ids=ids("district_ids"),
            department_ids=ids("department_ids"), statuses=ids("statuses"))
        return cls(**{**data, "selection": selection, "spec": CellSpec(**data["spec"])})


def data_version(session: Session) -> str:
    """Changes whenever a report is added or changed."""
    newest, changed = session.execute(select(func.max(Report.id),
                                             func.max(Report.updated_at))).one()
    return f"{newest or 0}:{changed.isoformat() if changed else '-'}"


def file_key(request: HeatmapRequest, version: str) -> str:
    """The storage key of the file for this request and data version."""
    digest = hashlib.sha256(json.dumps([request.to_dict(), version, RENDER_VERSION],
                                       sort_keys=True,
                                       default=str).encode()).hexdigest()[:40]
    return f"exports/heatmap-{digest}.{EXTENSIONS[request.fmt]}"


def build(session: Session, request: HeatmapRequest) -> bytes:
    """Aggregate and write the file in the asked format."""
    crs = last_snapshot(session).metric_crs
    cells = aggregate(session, request.selection, request.spec, crs)
    if request.fmt == "geojson":
        return _geojson(cells, request)
    if request.fmt == "csv":
        return _csv(cells)
    return _png(session, cells, request, crs)


def cached_or_build(session: Session, storage: PhotoStorage, request: HeatmapRequest
                    ) -> tuple[str, bytes]:
    """The file, from storage when this request was answered for the current data."""
    key = file_key(request, data_version(session))
    if storage.exists(key):
        return key, storage.get(key)
    data = build(session, request)
    storage.put(key, data)
    return key, data


def start_job(jobs: JobQueue, request: HeatmapRequest, key: str) -> bool:
    """Hand a large request to the workers (one job per file key)."""
    return jobs.submit(JOB, request.to_dict(), key, job_id=_job_id(key),
                       description=f"heatmap {key}")


def _job_id(key: str) -> str:
    return "heatmap-" + key.rsplit("/", 1)[-1].split(".")[0].removeprefix("heatmap-")


def job_state(jobs: JobQueue, key: str) -> str | None:
    """rq's state of the job building `key` (queued, started, failed, …), None if unknown."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        return Job.fetch(_job_id(key), connection=jobs.connection).get_status(refresh=True)
    except NoSuchJobError:
        return None


def build_into(session: Session, storage: PhotoStorage, request: HeatmapRequest, key: str
               ) -> None:
    """The job's work: build the file unless it exists already."""
    if not storage.exists(key):
        storage.put(key, build(session, request))


def _geojson(cells: Cells, request: HeatmapRequest) -> bytes:
    rings = cells.rings()
    features = [
        {"type": "Feature", "id": cell_id,
         "geometry": {"type": "Polygon", "coordinates": rings[i:i + 1]},
         "properties": {"count": c, "open": o, "closed": c - o}}
        for i, (cell_id, c, o) in enumerate(zip(cells.cell_ids(), cells.count.tolist(),
                                                cells.open.tolist(), strict=True))]
    # orjson writes the numpy rings directly: the serialisation of a city-wide grid is a
    # small part of the export instead of most of it.
    return orjson.dumps({
        "type": "FeatureCollection",
        "metadata": {"cell": asdict(request.spec), "filters": request.selection.describe(),
                     "total": cells.total, "cells": len(features),
                     "attribution": request.attribution},
        "features": features,
    }, option=orjson.OPT_SERIALIZE_NUMPY)


def _csv(cells: Cells) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["cell", "lon", "lat", "count", "open", "closed"])
    lons, lats = cells.centers()
    for row in zip(cells.cell_ids(), lons.tolist(), lats.tolist(), cells.count.tolist(),
                   cells.open.tolist(), cells.closed.tolist(), strict=True):
        writer.writerow([row[0], f"{row[1]:.6f}", f"{row[2]:.6f}", *row[3:]])
    return out.getvalue().encode()


def _png(session: Session, cells: Cells, request: HeatmapRequest, crs: str) -> bytes:
    lons, lats = cells.centers()
    x, y = transformer(LONLAT, crs).transform(lons, lats) if len(lons) else ([], [])
    outlines = [shapely.from_wkb(bytes(g)) for g in session.scalars(
        select(func.ST_AsBinary(District.geom)))]
    to_metric = transformer(LONLAT, crs)
    outlines = [shapely.transform(o, lambda a, b: to_metric.transform(a, b),
                                  interleaved=False) for o in outlines]
    cell_m = request.spec.cell_m or {7: 1220, 8: 460, 9: 174, 10: 66}[request.spec.h3_res or 8]
    return render_heatmap(HeatmapPicture(
        x=np.asarray(x), y=np.asarray(y), weight=cells.count, cell_m=float(cell_m),
        outlines=outlines, title=request.title, subtitle=request.filters_text,
        attribution=request.attribution, width=request.width, height=request.height,
        legend=request.legend))

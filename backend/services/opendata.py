"""Open data: every report without personal data, coordinates rounded to about 10 m.

Never in these files: e-mail, tracking token, description, address, photos, notes, EXIF.
The columns are an allow-list (`COLUMNS`); rows stream from the database in batches.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Asset, AssetLayer, Report
from backend.services.approximate import approximate
from backend.services.city_cache import CitySnapshot
from backend.workflow import OPEN311_STATE, Status

COLUMNS = ["id", "category", "category_name", "group", "status", "open311_status",
           "district", "district_name", "department", "created_at", "updated_at", "lon", "lat",
           # The asset the report is about (public register data; empty without one).
           "asset_id", "asset_layer", "asset_external_id", "asset_name", "asset_number",
           # true: the point is only the district's (the reporter chose no place).
           "approximate"]
DECIMALS = 4  # 1e-4° ≈ 11 m north–south, ≈ 7 m east–west at 48° N
BATCH = 10_000


def metadata_for(config: Any, settings: Any) -> dict[str, Any]:
    """The descriptor for a city configuration and the settings (licence, attribution)."""
    city = config.city.get("name", "")
    attribution = settings.opendata_attribution or (
        f"{city} – Mängelmelder; " + (config.districts.get("attribution") or ""))
    return metadata(city=city, license_id=settings.opendata_license,
                    license_url=settings.opendata_license_url, attribution=attribution,
                    base_url=settings.base_url)


def metadata(*, city: str, license_id: str, license_url: str, attribution: str,
             base_url: str) -> dict[str, Any]:
    """What the files are, their licence and the attribution (a data package descriptor)."""
    return {
        "name": "maengelmelder-reports",
        "title": f"Mängelmelder {city}: gemeldete Mängel / reported defects",
        "licenses": [{"name": license_id, "path": license_url}],
        "attribution": attribution,
        "description": "Reports of broken traffic lights and street signs. No personal data: "
                       "no e-mail, description, address or photos; coordinates rounded to "
                       f"{DECIMALS} decimal places (about 10 m). The asset columns name the "
                       "traffic signal or sign post a report is about, from the city's asset "
                       "registers (see their licences). `approximate` is true for reports placed "
                       "only by district: their point is the district's, not the defect's.",
        "resources": [
            {"name": "reports-csv", "path": f"{base_url}/api/v1/opendata/reports.csv",
             "format": "csv", "schema": {"fields": [{"name": c} for c in COLUMNS]}},
            {"name": "reports-geojson", "path": f"{base_url}/api/v1/opendata/reports.geojson",
             "format": "geojson"},
        ],
    }


def rows(session: Session, snapshot: CitySnapshot, locale: str = "de"
         ) -> Iterator[dict[str, Any]]:
    """One dict per report, oldest first, only the allowed columns."""
    last_id = 0
    while True:
        batch = session.execute(
            select(Report.id, Report.public_id, Report.category_id, Report.status,
                   Report.district_id, Report.department_id, Report.created_at,
                   Report.updated_at, func.ST_X(Report.geom), func.ST_Y(Report.geom),
                   Asset.id, AssetLayer.code, Asset.external_id, Asset.name, Asset.number,
                   Report.review_flags)
            .outerjoin(Asset, Asset.id == Report.asset_id)
            .outerjoin(AssetLayer, AssetLayer.id == Asset.layer_id)
            .where(Report.id > last_id).order_by(Report.id).limit(BATCH)).all()
        if not batch:
            return
        for r in batch:
            category = snapshot.categories_by_id[r[2]]
            district = snapshot.districts_by_id.get(r[4]) if r[4] else None
            yield {
                "id": r[1], "category": category.code, "category_name":
                category.name.get(locale), "group": category.group.code, "status": r[3],
                "open311_status": OPEN311_STATE[Status(r[3])],
                "district": district.number if district else None,
                "district_name": district.name if district else None,
                "department": snapshot.departments_by_id[r[5]].code,
                "created_at": _iso(r[6]), "updated_at": _iso(r[7]),
                "lon": round(float(r[8]), DECIMALS), "lat": round(float(r[9]), DECIMALS),
                "asset_id": r[10], "asset_layer": r[11], "asset_external_id": r[12],
                "asset_name": r[13], "asset_number": r[14], "approximate": approximate(r[15]),
            }
        last_id = batch[-1][0]


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def csv_chunks(records: Iterator[dict[str, Any]]) -> Iterator[str]:
    """CSV text in chunks (header first)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i, record in enumerate(records, 1):
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v
                         for k, v in record.items()})
        if i % 2000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def geojson_chunks(records: Iterator[dict[str, Any]], meta: dict[str, Any]) -> Iterator[str]:
    """A GeoJSON FeatureCollection in chunks, with the metadata (licence, attribution)."""
    yield '{"type":"FeatureCollection","metadata":' + json.dumps(meta, ensure_ascii=False)
    yield ',"features":['
    parts: list[str] = []
    for i, record in enumerate(records):
        properties = {k: v for k, v in record.items() if k not in ("lon", "lat")}
        parts.append(("," if i else "") + json.dumps({
            "type": "Feature", "id": record["id"],
            "geometry": {"type": "Point", "coordinates": [record["lon"], record["lat"]]},
            "properties": properties}, ensure_ascii=False, separators=(",", ":")))
        if len(parts) >= 2000:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "]}"


def export_files(session: Session, snapshot: CitySnapshot, directory: Path,
                 meta: dict[str, Any]) -> list[Path]:
    """Write reports.csv, reports.geojson and datapackage.json into `directory`, each
    replaced atomically (a portal fetching meanwhile sees the old or the new file)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, chunks in (
        ("reports.csv", lambda: csv_chunks(rows(session, snapshot))),
        ("reports.geojson", lambda: geojson_chunks(rows(session, snapshot), meta)),
        ("datapackage.json", lambda: iter([json.dumps(meta, ensure_ascii=False, indent=2)])),
    ):
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for chunk in chunks():
                    fh.write(chunk)
            os.replace(tmp, directory / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(directory / name)
    session.rollback()
    return written

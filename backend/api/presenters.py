"""Turn stored rows into the dictionaries the output schemas dump (public data only)."""

from __future__ import annotations

from typing import Any

from backend.models import Report
from backend.services.city_cache import CitySnapshot
from backend.workflow import OPEN311_STATE, Status


def report_url(base_url: str, public_id: str) -> str:
    """The public API URL of a report."""
    return f"{base_url}/api/v1/reports/{public_id}"


def report_view(report: Report | Any, lon: float, lat: float, snapshot: CitySnapshot, locale: str,
                base_url: str) -> dict[str, Any]:
    """The public view: what anyone may see of a report."""
    category = snapshot.categories_by_id[report.category_id]
    department = snapshot.departments_by_id[report.department_id]
    district = snapshot.districts_by_id.get(report.district_id) if report.district_id else None
    return {
        "id": report.public_id,
        "url": report_url(base_url, report.public_id),
        "category": {
            "code": category.code,
            "name": category.name.get(locale),
            "group": {"code": category.group.code, "name": category.group.name.get(locale)},
        },
        "description": report.description,
        "address": report.address,
        "location": {"lat": lat, "lon": lon},
        "district": {"number": district.number, "name": district.name} if district else None,
        "department": {"code": department.code, "name": department.name.get(locale)},
        "status": report.status,
        "open311_status": OPEN311_STATE[Status(report.status)],
        "priority": report.priority,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "history": [
            {"status": event.to_status, "at": event.at, "note": event.public_note}
            for event in report.events
        ],
        "photos": [public_photo(p, base_url) for p in report.photos if p.status == "ready"],
    }


def photo_url(base_url: str, sha256: str, fmt: str) -> str:
    """The public URL of a derivative."""
    return f"{base_url}/media/photos/{sha256}.{'jpg' if fmt == 'jpeg' else fmt}"


def public_photo(photo: Any, base_url: str) -> dict[str, Any]:
    """A ready photo's web sizes (never the original, never EXIF facts)."""
    sizes: dict[str, dict[str, Any]] = {}
    for d in photo.derivatives:
        size = sizes.setdefault(d.name, {"width": d.width, "height": d.height})
        size[d.format] = photo_url(base_url, d.sha256, d.format)
    return {"id": photo.public_id, "display": sizes.get("display"), "thumb": sizes.get("thumb")}


def uploaded_photo(photo: Any) -> dict[str, Any]:
    """What the uploader learns about their photo: status, and where the photo says it was."""
    get = photo.get if isinstance(photo, dict) else lambda key: getattr(photo, key)
    has_place = get("exif_lat") is not None and get("exif_lon") is not None
    return {
        "id": get("public_id"),
        "status": get("status"),
        "location": {"lat": get("exif_lat"), "lon": get("exif_lon")} if has_place else None,
        "taken_at": get("taken_at"),
    }


def report_feature(row: Any, snapshot: CitySnapshot, locale: str, base_url: str,
                   thumb_sha256: str | None = None) -> dict[str, Any]:
    """A GeoJSON Feature for one row of a list or nearby query."""
    category = snapshot.categories_by_id[row.category_id]
    district = snapshot.districts_by_id.get(row.district_id) if row.district_id else None
    properties: dict[str, Any] = {
        "id": row.public_id,
        "url": report_url(base_url, row.public_id),
        "category": category.code,
        "category_name": category.name.get(locale),
        "group": category.group.code,
        "status": row.status,
        "open311_status": OPEN311_STATE[Status(row.status)],
        "priority": row.priority,
        "district": district.number if district else None,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "thumb": photo_url(base_url, thumb_sha256, "jpeg") if thumb_sha256 else None,
    }
    if "distance_m" in row._fields:
        properties["distance_m"] = round(float(row.distance_m), 1)
    return {
        "type": "Feature",
        "id": row.public_id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": properties,
    }
